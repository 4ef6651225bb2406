// The database goes away: frozen, crashed, down, killed mid-restore, missing at start. The app
// reaches PostgreSQL through a fault-injecting relay (tests/helpers/fault-proxy.js) and must
// answer every request within seconds (the 503 page while the database is gone), serve again
// within seconds of its return, never crash, and never keep a broken connection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { browser, freshDatabase, insertAdmin } from '../helpers/app';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startServer } from '../helpers/server.js';

type Db = Awaited<ReturnType<typeof freshDatabase>>;
type Proxy = Awaited<ReturnType<typeof startFaultProxy>>;
type Server = Awaited<ReturnType<typeof startServer>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Status and time of one request; a request that gets no answer at all counts as status 0. */
async function timed(url: string, init: RequestInit = {}, limitMs = 20_000) {
	const started = performance.now();
	try {
		const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(limitMs), ...init });
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
		const status = await answer;
		expect(status).toBeGreaterThanOrEqual(400); // refused with a message, not a crash
		expect(status).not.toBe(0);
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
		const status = await answer;
		expect(status).toBeGreaterThanOrEqual(400);
		expect(status).not.toBe(0);
		// Right away, and again a little later: every request is answered, none by a broken connection.
		for (let round = 0; round < 3; round++) {
			expect(await serving(b)).toEqual(Array(20).fill(200));
			await sleep(300);
		}
		expect(app.logs()).not.toContain("Cannot read properties of null (reading 'write')");
	});
});
