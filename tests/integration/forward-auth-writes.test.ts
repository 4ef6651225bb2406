// Signed-in forward-auth requests write nothing: the session is resolved and checked against the
// proxy's user header in one read. Counted two ways: every statement the built server runs (a
// proxy on the wire, tests/helpers/pg-statements.ts) and the rows changed in the app's tables
// (pg_stat_user_tables, flushed when the server's connections close). `npm run bench` counts the
// same way; its old counter (pg_stat_database) also saw autovacuum's ANALYZE writing
// pg_statistic, which the last test shows is not the app.
import postgres from 'postgres';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { freshDatabase } from '../helpers/app';
import { startStatementLog, type StatementLog } from '../helpers/pg-statements';
import { startServer } from '../helpers/server.js';

const env = { LOG_LEVEL: 'warn', TRUSTED_PROXIES: '127.0.0.1/32' };
let db: Awaited<ReturnType<typeof freshDatabase>>;
let cookie: string;

/**
 * A connection of its own, closed after `work`: a backend reports its counters when it exits,
 * while a pooled one that stays open may report them seconds later, in the middle of a count.
 */
async function once<T>(work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
	const sql = postgres(db.url, { max: 1, onnotice: () => {} });
	try {
		return await work(sql);
	} finally {
		await sql.end();
	}
}

beforeAll(async () => {
	db = await freshDatabase();
	await once(async (sql) => {
		await sql`
			insert into "User" (username, "localUsername", "ssoProvider", "ssoIssuer", "ssoSubject")
			values ('Bench', 'bench', 'forward-auth', 'forward-auth', 'bench-user')`;
		await sql`update "AppSettings" set "ssoMode" = 'FORWARD_AUTH', "ssoEnabled" = true`;
	});
	const server = await startServer({ databaseUrl: db.url, env });
	const res = await fetch(`${server.url}/api/auth/sso/forward`, {
		redirect: 'manual',
		headers: { 'remote-user': 'bench-user' }
	});
	expect(res.status).toBe(303);
	cookie = res.headers
		.getSetCookie()
		.find((c) => c.startsWith('librariarr_session='))!
		.split(';')[0];
	await server.stop();
});
afterAll(() => db?.sql.end());

/** Rows changed by statements in the app's tables, as PostgreSQL counts them. */
async function rowsChanged() {
	const [row] = await once(
		(sql) => sql<{ n: number }[]>`
			select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::int as n
			from pg_stat_user_tables`
	);
	return row.n;
}

const isWrite = (statement: string) =>
	/^\s*(with\b[\s\S]*)?\b(insert|update|delete)\b/i.test(statement);

test('300 signed-in forward-auth requests run no insert, update or delete', async () => {
	const log: StatementLog = await startStatementLog(db.url);
	const server = await startServer({ databaseUrl: log.url, env });
	try {
		// Let the start-up housekeeping run (its deletes find nothing to delete) before counting.
		await new Promise((resolve) => setTimeout(resolve, 500));
		const from = log.statements.length;
		const headers = { cookie, 'remote-user': 'bench-user' };
		for (let round = 0; round < 30; round++) {
			const answers = await Promise.all(
				Array.from({ length: 10 }, () => fetch(`${server.url}/`, { headers, redirect: 'manual' }))
			);
			for (const res of answers) expect(res.status).toBe(200);
		}
		const statements = log.statements.slice(from);
		expect(statements.length).toBeGreaterThanOrEqual(300);
		expect(statements.filter(isWrite)).toEqual([]);
	} finally {
		await server.stop();
		await log.stop();
	}
});

test('counted from PostgreSQL: a server run of signed-in requests changes no row', async () => {
	await new Promise((resolve) => setTimeout(resolve, 500));
	const before = await rowsChanged();
	const server = await startServer({ databaseUrl: db.url, env });
	const headers = { cookie, 'remote-user': 'bench-user' };
	for (let i = 0; i < 100; i++) {
		expect((await fetch(`${server.url}/`, { headers, redirect: 'manual' })).status).toBe(200);
	}
	await server.stop();
	await new Promise((resolve) => setTimeout(resolve, 500));
	expect(await rowsChanged()).toBe(before);
});

test("ANALYZE (what autovacuum runs) moves pg_stat_database's counters, not the app's tables'", async () => {
	const database = new URL(db.url).pathname.slice(1);
	const one = await db.sql.reserve(); // one backend, whose pending counters are flushed below
	try {
		const counts = async () => {
			await one`select pg_stat_force_next_flush()`;
			await one`select 1`; // the flush happens at the end of the statement after it
			const [row] = await one<{ all: number; app: number }[]>`
				select (select (tup_inserted + tup_updated + tup_deleted)::int from pg_stat_database
					where datname = ${database}) as all,
				(select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::int
					from pg_stat_user_tables) as app`;
			return row;
		};
		await one`insert into "AuditEvent" (event) select 'probe' from generate_series(1, 100)`;
		const before = await counts();
		await one`analyze "AuditEvent", "Session"`;
		const after = await counts();
		expect(after.all).toBeGreaterThan(before.all);
		expect(after.app).toBe(before.app);
	} finally {
		one.release();
	}
});
