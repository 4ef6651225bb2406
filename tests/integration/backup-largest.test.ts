// The largest backup this app can make: 100,000 audit rows (what a backup keeps), each as long as
// the app writes them (a 512-character User-Agent, a provider's error text cut to 300), made by
// the app and restored by it. Then shutdowns: SIGTERM during that restore cancels it (it rolls
// back) and the server exits within Docker's 10 seconds; SIGTERM while a backup is being made
// cancels it, leaving no file, temporary or not.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LIMITS } from '../../src/lib/server/backup/format';
import { browser, freshDatabase, insertAdmin } from '../helpers/app';
import { startServer } from '../helpers/server.js';

const SECRET_KEY = 'largest backup';
const ROWS = LIMITS.rows.AuditEvent;
const UA = (
	'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
	'Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0 '
).repeat(5);

let db: Awaited<ReturnType<typeof freshDatabase>>;
let configDir: string;
let backupsDir: string;
let adminId: number;

beforeAll(async () => {
	db = await freshDatabase();
	configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-largest-'));
	backupsDir = path.join(configDir, 'backups');
	adminId = await insertAdmin(db.sql);
});
afterAll(async () => {
	await db?.sql.end();
	fs.rmSync(configDir, { recursive: true, force: true });
});

async function fillAudit() {
	await db.sql`delete from "AuditEvent"`;
	await db.sql`
		insert into "AuditEvent" ("occurredAt", "userId", event, method, ip, detail, "userAgent",
			count, "lastOccurredAt", "collapseKey")
		select now() - make_interval(secs => i), ${adminId}, 'login.failed', 'oidc',
			'2001:db8:85a3:1234:5678:8a2e:370:' || to_hex(i % 65536),
			jsonb_build_object('reason', 'provider_error', 'error', repeat('e', 294) || lpad(i::text, 6, '0'),
				'username', 'admin', 'key', 'password:account:admin', 'step', 'totp'),
			left(${UA} || i, 512), i, now(), 'login.failed:oidc:provider_error:2001:db8:85a3::/64:' || i
		from generate_series(1, ${ROWS}) i
	`;
}

const start = () =>
	startServer({
		databaseUrl: db.url,
		env: { CONFIG_DIR: configDir, SECRET_KEY, BODY_SIZE_LIMIT: '60M', LOG_LEVEL: 'info' }
	});

async function signedIn(url: string) {
	const b = browser(url);
	expect((await b.signIn()).status).toBe(303);
	return b;
}

function restore(url: string, b: ReturnType<typeof browser>, name: string) {
	const form = new FormData();
	form.append('name', name);
	form.append('confirm', 'on');
	return fetch(`${url}/settings/backups?/restore`, {
		method: 'POST',
		headers: {
			accept: 'text/html',
			origin: url,
			cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ')
		},
		body: form,
		redirect: 'manual'
	});
}

/** Resolves with the milliseconds from now until the process is gone. */
async function exitTime(pid: number, limitMs: number) {
	const started = Date.now();
	for (;;) {
		try {
			process.kill(pid, 0);
		} catch {
			return Date.now() - started;
		}
		if (Date.now() - started > limitMs) {
			process.kill(pid, 'SIGKILL');
			return Infinity;
		}
		await new Promise((r) => setTimeout(r, 50));
	}
}

const auditCount = async () =>
	(await db.sql<{ n: number }[]>`select count(*)::int as n from "AuditEvent"`)[0].n;

let backupName = '';

test('the largest backup the app can make restores', async () => {
	await fillAudit();
	const server = await start();
	try {
		const b = await signedIn(server.url);
		const made = await b.post('/settings/backups?/create', { passphrase: '' });
		const html = await made.text();
		expect(made.status, html.slice(0, 300)).toBe(200);
		backupName = /Backup (librariarr-[^ ]+) created/.exec(html)![1];

		await db.sql`delete from "AuditEvent"`;
		const res = await restore(server.url, b, backupName);
		expect(res.status, (await res.text()).slice(0, 500)).toBe(303);
		// Every row came back: the backup's 100,000 (its newest, the sign-in above included);
		// the restore then adds its own "backup.restored" entry.
		const [{ rows, longest }] = await db.sql<{ rows: number; longest: number }[]>`
			select count(*)::int as rows, max(length("userAgent"))::int as longest
			from "AuditEvent" where event <> 'backup.restored'
		`;
		expect(rows).toBe(ROWS);
		expect(longest).toBe(512);
	} finally {
		await server.stop();
	}
}, 240_000);

test('SIGTERM during a restore cancels it (nothing changes) and the server exits within 10 s', async () => {
	expect(backupName).not.toBe('');
	await db.sql`delete from "AuditEvent"`;
	await db.sql`insert into "AuditEvent" (event) values ('test.before-restore')`;
	const server = await start();
	const b = await signedIn(server.url);
	const before = await auditCount();
	const answer = restore(server.url, b, backupName).then(async (res) => ({
		status: res.status,
		text: await res.text()
	}));
	// Wait until the restore's insert is running in PostgreSQL.
	await expect
		.poll(
			async () =>
				(
					await db.sql`
						select 1 from pg_stat_activity
						where datname = current_database() and state = 'active'
							and query like '%json_populate_recordset%'
					`
				).length,
			{ timeout: 120_000, interval: 20 }
		)
		.toBeGreaterThan(0);
	process.kill(server.pid, 'SIGTERM');
	const took = await exitTime(server.pid, 30_000);
	expect(took).toBeLessThan(10_000);
	const res = await answer.catch((error) => ({ status: 0, text: String(error) }));
	expect(res.status, res.text.slice(0, 300)).toBe(503);
	expect(res.text).toContain('shutting down');
	// Rolled back: the rows from before the restore, no others.
	expect(await auditCount()).toBe(before);
	const [row] = await db.sql`select event from "AuditEvent" where event = 'test.before-restore'`;
	expect(row).toBeTruthy();
}, 240_000);

test('SIGTERM while a backup is being made cancels it: no new file, no temporary file, exit within 10 s', async () => {
	await fillAudit();
	const server = await start();
	const b = await signedIn(server.url);
	const listing = () => (fs.existsSync(backupsDir) ? fs.readdirSync(backupsDir).sort() : []);
	const before = listing();
	const made = b
		.post('/settings/backups?/create', { passphrase: 'a long backup passphrase' })
		.then(async (res) => ({ status: res.status, text: await res.text() }));
	// Stop it while it reads the database (the dump of 100,000 rows takes a moment).
	await expect
		.poll(
			async () =>
				(
					await db.sql`
						select 1 from pg_stat_activity
						where datname = current_database() and state = 'active'
							and query like '%json_agg(to_json(t)%'
					`
				).length,
			{ timeout: 60_000, interval: 10 }
		)
		.toBeGreaterThan(0);
	process.kill(server.pid, 'SIGTERM');
	expect(await exitTime(server.pid, 30_000)).toBeLessThan(10_000);
	const res = await made.catch((error) => ({ status: 0, text: String(error) }));
	expect(res.status, res.text.slice(0, 300)).toBe(503);
	expect(res.text).toContain('shutting down');
	expect(listing()).toEqual(before);
}, 240_000);
