// The one connection pool. With DATABASE_URL unset it points at the embedded PostgreSQL that
// `startDatabase` (called from the `init` hook) brings up before the first request.
//
// Every wait on the database is bounded (see "When things fail" in README.md): a connection that
// gets no answer gives up after CONNECT_TIMEOUT_S, a statement after STATEMENT_TIMEOUT_MS (the
// server ends it), a request after the budget in health.ts. A connection lives at most
// MAX_LIFETIME_S and is dropped on any error; after a failed connect the next try comes within a
// second (postgres.js would otherwise back off for up to 20 s, and requests would queue behind).
import postgres, { type Fragment, type Sql } from 'postgres';
import { config } from './config';
import { embeddedConnection, startEmbeddedPostgres } from './plain/embedded-db.js';
import { log } from './log';
import { migrate } from './plain/migrate.js';

export const CONNECT_TIMEOUT_S = 3;
export const STATEMENT_TIMEOUT_MS = 30_000;
const MAX_LIFETIME_S = 30 * 60;

const options = {
	max: 10,
	connect_timeout: CONNECT_TIMEOUT_S,
	idle_timeout: 60,
	max_lifetime: MAX_LIFETIME_S,
	backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
	connection: {
		statement_timeout: STATEMENT_TIMEOUT_MS,
		// A transaction left open by a stalled request must not hold its locks for long.
		idle_in_transaction_session_timeout: 60_000
	},
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

/**
 * In a statement's SELECT list or WHERE clause: that statement's transaction commits without
 * waiting for the disk (PostgreSQL's asynchronous commit, set for this transaction only, so it
 * never reaches the next statement on the connection). Its effects are visible to everyone at
 * once; only a crash of PostgreSQL in the next fraction of a second (three `wal_writer_delay`,
 * 0.6 s by default) can undo it, and then the whole transaction, never part of it. For the
 * bookkeeping of a sign-in, where that loss is harmless: a throttle count (an attacker would
 * gain the attempts of that fraction of a second, after a crash they cannot cause from here), and
 * a new session with its audit row (lost together: the browser signs in again, and no session
 * exists that the trail does not show). Each saves a wait on the disk on the sign-in's path.
 */
export const commitWithoutFlush = () =>
	sql`(set_config('synchronous_commit', 'off', true) = 'off')`;

let stopEmbedded: (() => Promise<void>) | null = null;

export async function startDatabase() {
	if (!config.databaseUrl) {
		stopEmbedded = await startEmbeddedPostgres({ log: (m) => log.info(m) });
	} else {
		await waitForDatabase(config.databaseUrl);
	}
	const applied = await migrate(sql, { log: (m) => log.info(m) });
	log.info('Database ready', { migrationsApplied: applied.length });
}

/** Thrown when the app cannot start: `message` is the whole of the `Cannot start:` line. */
export class StartError extends Error {}

// With compose the database often starts after the app. Test seams: DATABASE_START_ATTEMPTS and
// DATABASE_RETRY_MS stand in for the 30 attempts, 2 seconds apart.
const seam = (name: string, fallback: number) =>
	Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback;

/** Tries the server until it answers, one log line per failed attempt, for a bounded time. */
async function waitForDatabase(url: string) {
	const attempts = seam('DATABASE_START_ATTEMPTS', 30);
	const pause = seam('DATABASE_RETRY_MS', 2000);
	const where = hostOf(url);
	for (let attempt = 1; ; attempt++) {
		const started = Date.now();
		try {
			await sql`select 1`;
			return;
		} catch (error) {
			const cause = connectionProblem(error);
			if (!cause.retry) {
				throw new StartError(
					`the database at ${where} (DATABASE_URL) refused the app: ${cause.text}.`
				);
			}
			if (attempt >= attempts) {
				throw new StartError(
					`the database at ${where} (DATABASE_URL) did not answer: ${cause.text} (${attempts} attempts). Check that PostgreSQL runs and that DATABASE_URL names it.`
				);
			}
			log.warn(
				`waiting for the database at ${where} (${cause.text}), attempt ${attempt} of ${attempts}`
			);
			await new Promise((r) => setTimeout(r, Math.max(0, pause - (Date.now() - started))));
		}
	}
}

/** HOST:PORT of a database URL: never its user or password. */
export function hostOf(url: string) {
	const { hostname, port } = new URL(url);
	return `${hostname}:${port || 5432}`;
}

const PERMANENT: Record<string, string> = {
	'28P01': 'wrong password',
	'28000': 'the server does not allow this user (pg_hba.conf)',
	'3D000': 'the database does not exist',
	'42501': 'permission denied'
};

/** Why a connection failed, in words for the log, and whether trying again may help. */
export function connectionProblem(error: unknown): { text: string; retry: boolean } {
	const e = error as { code?: string; message?: string };
	const code = e?.code ?? '';
	if (code in PERMANENT) return { text: `${PERMANENT[code]} (${e.message})`, retry: false };
	const words: Record<string, string> = {
		ECONNREFUSED: 'connection refused',
		ENOTFOUND: 'host not found',
		EAI_AGAIN: 'host not found',
		EHOSTUNREACH: 'host unreachable',
		ENETUNREACH: 'network unreachable',
		ECONNRESET: 'connection reset',
		CONNECTION_CLOSED: 'connection closed',
		CONNECT_TIMEOUT: `no answer within ${CONNECT_TIMEOUT_S} s`,
		'57P03': 'the database is starting up'
	};
	return { text: words[code] ?? e?.message ?? String(error), retry: true };
}

export async function stopDatabase() {
	// postgres.js's end() can stay pending for good when PostgreSQL went first (Ctrl-C reaches the
	// embedded server too): our own timer bounds it, and keeps the process alive until it fires,
	// so that the embedded server is still stopped and said to be.
	let timer: ReturnType<typeof setTimeout> | undefined;
	await Promise.race([
		sql.end({ timeout: 5 }),
		new Promise((resolve) => (timer = setTimeout(resolve, 5500)))
	]);
	clearTimeout(timer);
	if (stopEmbedded) {
		// It says "Embedded PostgreSQL stopped" itself, before it lets the process end.
		await stopEmbedded();
		stopEmbedded = null;
	}
}
