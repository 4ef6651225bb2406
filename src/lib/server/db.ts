// The one connection pool. With DATABASE_URL unset it points at the embedded PostgreSQL that
// `startDatabase` (called from the `init` hook) brings up before the first request.
import postgres, { type Sql } from 'postgres';
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
