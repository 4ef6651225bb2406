// The one connection pool. With DATABASE_URL unset it points at the embedded PostgreSQL that
// `startDatabase` (called from the `init` hook) brings up before the first request.
import postgres from 'postgres';
import { config } from './config';
import { embeddedConnection, startEmbeddedPostgres } from './embedded-db.js';
import { log } from './log';
import { migrate } from './migrate.js';

const options = {
	max: 10,
	connect_timeout: 5,
	idle_timeout: 60,
	onnotice: () => {}
} as const;

export const sql = config.databaseUrl
	? postgres(config.databaseUrl, options)
	: postgres({ ...embeddedConnection(), ...options });

let stopEmbedded: (() => Promise<void>) | null = null;

export async function startDatabase() {
	if (!config.databaseUrl) {
		stopEmbedded = await startEmbeddedPostgres({ log: (m) => log.info(m) });
	}
	const applied = await migrate(sql, { log: (m) => log.info(m) });
	log.info('Database ready', { migrationsApplied: applied.length });
}

export async function stopDatabase() {
	await sql.end({ timeout: 5 });
	if (stopEmbedded) {
		await stopEmbedded();
		stopEmbedded = null;
		log.info('Embedded PostgreSQL stopped');
	}
}

/** True when the database answers a trivial query within `ms`. */
export async function databaseAnswers(ms = 2000): Promise<boolean> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
	try {
		return await Promise.race([sql`select 1`.then(() => true), timeout]);
	} catch {
		return false;
	} finally {
		clearTimeout(timer);
	}
}
