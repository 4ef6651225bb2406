// The database goes away: frozen, crashed, down, killed mid-restore, missing at start. The app
// reaches PostgreSQL through a fault-injecting relay (tests/helpers/fault-proxy.js) and must
// answer every request within seconds (the 503 page while the database is gone), serve again
// within seconds of its return, never crash, and never keep a broken connection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, freshDatabase, insertAdmin } from '../helpers/app';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

type Db = Awaited<ReturnType<typeof freshDatabase>>;
type Proxy = Awaited<ReturnType<typeof startFaultProxy>>;
type Server = Awaited<ReturnType<typeof startServer>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Status and time of one request; a request that gets no answer at all counts as status 0. */
async function timed(url: string, init: RequestInit = {}, limitMs = 20_000) {
	const started = performance.now();
	try {
		const res = await fetch(url, {
			redirect: 'manual',
			signal: AbortSignal.timeout(limitMs),
			...init
		});
		await res.arrayBuffer();
		return { status: res.status, ms: performance.now() - started };
	} catch {
		return { status: 0, ms: performance.now() - started };
	}
}

/** Polls until `check` holds; returns how long that took. */
async function until(check: () => Promise<boolean>, limitMs = 20_000) {
	const started = performance.now();
	while (!(await check())) {
		if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
		await sleep(50);
	}
	return performance.now() - started;
}

describe('a restore the database dies under', () => {
	let db: Db;
	let proxy: Proxy;
	let app: Server;
	let configDir: string;

	beforeAll(async () => {
		db = await freshDatabase();
		await insertAdmin(db.sql);
		// Enough audit rows that the restore's insert runs long enough to be interrupted.
		await db.sql`
			insert into "AuditEvent" (event, method, ip, detail)
			select 'test.event', 'local', '192.0.2.1', jsonb_build_object('i', i, 'pad', repeat('x', 600))
			from generate_series(1, 40000) as i
		`;
		configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-dbfaults-'));
		proxy = await startFaultProxy(db.url);
		app = await startServer({ databaseUrl: proxy.url, env: { CONFIG_DIR: configDir } });
	});
	afterAll(async () => {
		await app?.stop();
		await proxy?.stop();
		await db?.sql.end();
		if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
	});

	async function backupName(b: ReturnType<typeof browser>) {
		const res = await b.post('/settings/backups?/create', { passphrase: '' });
		const name = /Backup (librariarr-[^ ]+) created/.exec(await res.text())?.[1];
		expect(name).toBeTruthy();
		return name!;
	}

	/** Starts a restore of `name` and resolves once its insert is running in PostgreSQL. */
	async function restoreUnderway(b: ReturnType<typeof browser>, name: string) {
		const answer = b
			.post('/settings/backups?/restore', { name, confirm: 'on', passphrase: '' })
			.then((r) => r.status)
			.catch(() => 0);
		let pid = 0;
		await until(async () => {
			const [row] = await db.sql<{ pid: number }[]>`
				select pid from pg_stat_activity
				where datname = ${db.name} and pid <> pg_backend_pid() and state = 'active'
					and wait_event is distinct from 'ClientRead'
					and query like '%json_populate_recordset%'
			`;
			pid = row?.pid ?? 0;
			return pid !== 0;
		});
		return { answer, pid };
	}

	async function serving(b: ReturnType<typeof browser>) {
		// Twenty at once, so that every pooled connection is used, the ones that broke included.
		const statuses = await Promise.all(
			Array.from({ length: 20 }, () => b.get('/').then((r) => r.status))
		);
		return statuses;
	}

	test('connections reset mid-restore: the restore rolls back and the app keeps serving', async () => {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		const name = await backupName(b);
		const { answer } = await restoreUnderway(b, name);
		proxy.reset();
		expect(await answer).toBe(503); // refused with a message, not a crash
		await sleep(500);
		expect(app.logs()).not.toContain("Cannot read properties of null (reading 'write')");
		expect((await timed(`${app.url}/healthz`)).status).toBe(200);
		expect(await serving(b)).toEqual(Array(20).fill(200)); // the session outlived it
		const [{ n }] = await db.sql<{ n: number }[]>`select count(*)::int as n from "AuditEvent"`;
		expect(n).toBeGreaterThanOrEqual(40000); // rolled back: nothing lost
	});

	test('the backend of a restore is terminated mid-restore: no connection is left broken', async () => {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		const name = await backupName(b);
		const { answer, pid } = await restoreUnderway(b, name);
		await db.sql`select pg_terminate_backend(${pid})`;
		expect(await answer).toBe(503);
		// Right away, and again a little later: every request is answered, none by a broken connection.
		for (let round = 0; round < 3; round++) {
			expect(await serving(b)).toEqual(Array(20).fill(200));
			await sleep(300);
		}
		expect(app.logs()).not.toContain("Cannot read properties of null (reading 'write')");
	});
});

describe('a frozen, crashed or stopped database', () => {
	let db: Db;
	let proxy: Proxy;
	let app: Server;
	let b: ReturnType<typeof browser>;

	beforeAll(async () => {
		db = await freshDatabase();
		await insertAdmin(db.sql);
		proxy = await startFaultProxy(db.url);
		app = await startServer({ databaseUrl: proxy.url });
		b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
	});
	afterAll(async () => {
		await app?.stop();
		await proxy?.stop();
		await db?.sql.end();
	});

	const home = () =>
		timed(`${app.url}/`, {
			headers: { cookie: `${[...b.jar].map(([k, v]) => `${k}=${v}`).join('; ')}` }
		});
	const health = () => timed(`${app.url}/healthz`);

	test('frozen: the 503 page within the 3-second budget, at once after that, and back at once when it thaws', async () => {
		expect((await home()).status).toBe(200);
		proxy.pause();
		const first = await home();
		expect(first.status).toBe(503);
		expect(first.ms).toBeLessThan(4000);
		expect(first.ms).toBeGreaterThan(2500); // it did wait its budget
		// Known to be down: the next requests do not queue behind the stuck connections.
		const next = await Promise.all(Array.from({ length: 10 }, home));
		for (const r of next) expect(r).toMatchObject({ status: 503 });
		for (const r of next) expect(r.ms).toBeLessThan(4000);
		expect((await health()).status).toBe(503);
		proxy.resume();
		const back = await until(async () => (await home()).status === 200, 5000);
		expect(back).toBeLessThan(5000);
		const all = await Promise.all(Array.from({ length: 20 }, home));
		expect(all.map((r) => r.status)).toEqual(Array(20).fill(200));
		expect((await health()).status).toBe(200);
		// The log says when it went and when it came back, not a line per refused request.
		const logs = app.logs();
		expect(logs).toContain('Database not answering: requests get the 503 page until it is back');
		expect(logs).toContain('Database answering again');
		const perRequest = logs.split('\n').filter((l) => l.includes('while resolving the session'));
		expect(perRequest.length).toBeLessThanOrEqual(2); // one per cause, 11 requests refused
	});

	test('down (connections refused): the 503 page within a second, serving again within seconds', async () => {
		await proxy.cut();
		const down = await home();
		expect(down.status).toBe(503);
		expect(down.ms).toBeLessThan(1500);
		expect((await health()).status).toBe(503);
		await sleep(2000); // the pool keeps trying meanwhile; its back-off must not grow long
		await proxy.open();
		const back = await until(async () => (await home()).status === 200, 5000);
		expect(back).toBeLessThan(3000);
		const all = await Promise.all(Array.from({ length: 20 }, home));
		expect(all.map((r) => r.status)).toEqual(Array(20).fill(200));
	});

	test('a connection lost in the middle of a page: the 503 page, not an error page', async () => {
		// The home page reads the audit trail after the session is resolved: hold that table
		// locked, and end the app's backend while its query waits for the lock.
		const admin = await db.sql.reserve();
		try {
			await admin`begin`;
			await admin`lock table "AuditEvent" in access exclusive mode`;
			const page = timed(`${app.url}/`, {
				headers: { cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ') }
			});
			await until(async () => {
				const [row] = await db.sql`
					select 1 from pg_stat_activity
					where datname = ${db.name} and wait_event_type = 'Lock' and query like '%AuditEvent%'
				`;
				return Boolean(row);
			});
			await db.sql`
				select pg_terminate_backend(pid) from pg_stat_activity
				where datname = ${db.name} and wait_event_type = 'Lock' and query like '%AuditEvent%'
			`;
			expect((await page).status).toBe(503);
		} finally {
			await admin`rollback`;
			admin.release();
		}
		expect(app.logs()).toContain('Database unavailable');
		expect((await home()).status).toBe(200);
	});

	test('crashed and restarted: no request fails once it answers again', async () => {
		// Every pooled connection open, then all of them torn down at once, and a restart's pause.
		await Promise.all(Array.from({ length: 20 }, home));
		await proxy.cut();
		await sleep(1000);
		await proxy.open();
		const back = await until(async () => (await home()).status === 200, 5000);
		expect(back).toBeLessThan(3000);
		for (let round = 0; round < 3; round++) {
			const all = await Promise.all(Array.from({ length: 20 }, home));
			expect(all.map((r) => r.status)).toEqual(Array(20).fill(200));
			expect((await health()).status).toBe(200);
			await sleep(300);
		}
	});
});

describe('at start', () => {
	/** Runs `node build` against `databaseUrl` until it exits or is healthy. */
	async function start(databaseUrl: string, env: Record<string, string> = {}) {
		const port = await freePort();
		const child = spawn(process.execPath, [path.resolve('build')], {
			env: {
				...process.env,
				DATABASE_URL: databaseUrl,
				PORT: String(port),
				HOST: '127.0.0.1',
				LOG_LEVEL: 'info',
				DATABASE_START_ATTEMPTS: '3',
				DATABASE_RETRY_MS: '300',
				...env
			},
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let output = '';
		child.stdout.on('data', (c) => (output += c));
		child.stderr.on('data', (c) => (output += c));
		const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
		return { child, port, exited, output: () => output };
	}

	test('connection refused: one line per attempt, then one Cannot start line without the password', async () => {
		const port = await freePort(); // nothing listens there
		const url = `postgres://app:sekrit-pw@127.0.0.1:${port}/librariarr`;
		const run = await start(url);
		expect(await run.exited).toBe(1);
		const out = run.output();
		for (const n of [1, 2]) {
			expect(out).toContain(
				`waiting for the database at 127.0.0.1:${port} (connection refused), attempt ${n} of 3`
			);
		}
		const lines = out.split('\n').filter((l) => l.startsWith('Cannot start:'));
		expect(lines).toEqual([
			`Cannot start: the database at 127.0.0.1:${port} (DATABASE_URL) did not answer: connection refused (3 attempts). Check that PostgreSQL runs and that DATABASE_URL names it.`
		]);
		expect(out).not.toContain('sekrit-pw');
		expect(out).not.toMatch(/^\s+at /m); // no stack
	});

	test('a host that accepts TCP and never answers does not hang the start', async () => {
		const silent = net.createServer(() => {}); // takes the connection, says nothing
		await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
		const port = (silent.address() as net.AddressInfo).port;
		try {
			const started = performance.now();
			const run = await start(`postgres://app:sekrit-pw@127.0.0.1:${port}/librariarr`, {
				DATABASE_START_ATTEMPTS: '2'
			});
			expect(await run.exited).toBe(1);
			expect(performance.now() - started).toBeLessThan(15_000); // 2 × the 3 s connect timeout
			expect(run.output()).toContain(`(no answer within 3 s), attempt 1 of 2`);
			expect(run.output()).toContain(
				`Cannot start: the database at 127.0.0.1:${port} (DATABASE_URL) did not answer: no answer within 3 s (2 attempts).`
			);
		} finally {
			silent.close();
		}
	});

	test('a database that does not exist: Cannot start at once, naming the cause', async () => {
		const db = await freshDatabase();
		await db.sql.end();
		const missing = new URL(db.url);
		missing.pathname = '/no_such_database_here';
		const run = await start(missing.toString());
		expect(await run.exited).toBe(1);
		const lines = run
			.output()
			.split('\n')
			.filter((l) => l.startsWith('Cannot start:'));
		expect(lines).toHaveLength(1);
		expect(lines[0]).toContain('the database does not exist');
		expect(run.output()).not.toContain('waiting for the database');
	});

	test('a database that comes up after the app: the app waits for it, then serves', async () => {
		const db = await freshDatabase();
		const proxy = await startFaultProxy(db.url);
		await proxy.cut();
		const run = await start(proxy.url, { DATABASE_START_ATTEMPTS: '30' });
		try {
			await until(async () => run.output().includes('attempt 2 of 30'), 10_000);
			await proxy.open();
			await until(
				async () => (await timed(`http://127.0.0.1:${run.port}/healthz`)).status === 200,
				10_000
			);
			expect(run.child.exitCode).toBe(null);
		} finally {
			run.child.kill('SIGTERM');
			await run.exited;
			await proxy.stop();
			await db.sql.end();
		}
	});
});
