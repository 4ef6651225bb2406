// The one connection pool. With DATABASE_URL unset it points at the embedded PostgreSQL that
// `startDatabase` (called from the `init` hook) brings up before the first request.
import postgres, { type Fragment, type Sql } from 'postgres';
import { config } from './config';
import { embeddedConnection, startEmbeddedPostgres } from './plain/embedded-db.js';
import { log } from './log';
import { migrate } from './plain/migrate.js';

const options = {
	max: 10,
	connect_timeout: 5,
	idle_timeout: 60,
	onnotice: () => {}
} as const;

let pool: Sql | null = null;

function connect(): Sql {
	pool ??= config.databaseUrl
		? postgres(config.databaseUrl, options)
		: postgres({ ...embeddedConnection(), ...options });
	return pool;
}

// `sql` stands for the pool, which is made on first use: the build imports this module, and the
// configuration (DATABASE_URL, EMBEDDED_PG_PORT) is read at run time only.
export const sql = new Proxy((() => {}) as unknown as Sql, {
	apply: (_target, _this, args) => Reflect.apply(connect(), undefined, args),
	get: (_target, key) => Reflect.get(connect(), key)
});

/**
 * Writes that belong to one statement, as its common table expressions: `${alongside(writes)}
 * insert …` runs them all in the statement's single round trip and transaction. Empty for none.
 */
export function alongside(writes: Fragment[]): Fragment {
	if (!writes.length) return sql``;
	const named = writes.map((write, i) => sql`${sql(`write${i}`)} as (${write})`);
	return sql`with ${named.reduce((all, one) => sql`${all}, ${one}`)}`;
}

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
