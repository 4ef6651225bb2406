// The backup folder when the disk says no: a full folder (a 1 MiB tmpfs mounted over it) and a
// read-only one. The failing backup says why in words, leaves no temporary file behind, and the
// backups already there stay listed and restorable. And at start, the temporary files a killed
// backup left are removed, under the advisory lock every instance takes for its start-up
// housekeeping. Mounting needs root; without it the mount tests are skipped (and say so).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, freshDatabase, insertAdmin, startApp, type App } from '../helpers/app';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

const HOUSEKEEPING_LOCK = 727_274_004; // housekeeping.ts

function canMount() {
	if (process.getuid?.() !== 0) return false;
	const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-mount-probe-'));
	try {
		execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
		execFileSync('umount', [probe], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	} finally {
		fs.rmSync(probe, { recursive: true, force: true });
	}
}

const tmpFiles = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith('.tmp-'));

describe.skipIf(!canMount())('a full or read-only backup folder (a 1 MiB tmpfs)', () => {
	let app: App;
	let configDir: string;
	let backupsDir: string;

	beforeAll(async () => {
		configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-full-'));
		backupsDir = path.join(configDir, 'backups');
		fs.mkdirSync(backupsDir, { mode: 0o700 });
		execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', backupsDir]);
		app = await startApp({
			CONFIG_DIR: configDir,
			SECRET_KEY: 'full-disk',
			BACKUP_TICK_SECONDS: '1'
		});
		await insertAdmin(app.sql);
	});
	afterAll(async () => {
		await app?.stop();
		try {
			execFileSync('umount', [backupsDir]);
		} catch {
			// not mounted
		}
		fs.rmSync(configDir, { recursive: true, force: true });
	});

	async function create(b: ReturnType<typeof browser>) {
		const res = await b.post('/settings/backups?/create', { passphrase: '' });
		return { status: res.status, html: await res.text() };
	}

	test('a backup too large for the space left: 507 that says how much is free and needed; no temp file; the others stay', async () => {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		const small = await create(b);
		expect(small.status).toBe(200);
		const first = /Backup (librariarr-[^ ]+) created/.exec(small.html)![1];

		// About 2 MB of audit trail that gzip cannot shrink much (random hex User-Agents).
		await app.sql`
			insert into "AuditEvent" (event, "userAgent")
			select 'test.noise', (
				select string_agg(md5(random()::text || s.i::text || k::text), '')
				from generate_series(1, 16) k
			)
			from generate_series(1, 8000) s(i)
		`;
		const full = await create(b);
		expect(full.status).toBe(507);
		expect(full.html).toMatch(
			/The backup folder \([^)]*backups\) is full: \d+(\.\d)? MB free, the backup needs about \d+(\.\d)? MB\./
		);
		expect(tmpFiles(backupsDir)).toEqual([]);
		expect(app.logs()).not.toMatch(/ ERROR /);

		// The earlier backup is still listed, and a small backup fits again: the partial file went.
		const page = await (await b.get('/settings/backups')).text();
		expect(page).toContain(first);
		await app.sql`delete from "AuditEvent" where event = 'test.noise'`;
		expect((await create(b)).status).toBe(200);

		// And the earlier one restores.
		const form = new FormData();
		form.append('name', first);
		form.append('confirm', 'on');
		const restored = await fetch(`${app.url}/settings/backups?/restore`, {
			method: 'POST',
			headers: {
				accept: 'text/html',
				origin: app.url,
				cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ')
			},
			body: form,
			redirect: 'manual'
		});
		expect(restored.status).toBe(303);
	});

	test('a scheduled backup that does not fit logs why once, and waits before trying again', async () => {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		await app.sql`
			insert into "AuditEvent" (event, "userAgent")
			select 'test.noise', (
				select string_agg(md5(random()::text || s.i::text || k::text), '')
				from generate_series(1, 16) k
			)
			from generate_series(1, 8000) s(i)
		`;
		const failures = () =>
			app
				.logs()
				.split('\n')
				.filter((l) => l.includes('Scheduled backup failed'));
		const before = failures().length;
		try {
			// Due every second, ticking every second: without the pause, a failure a second.
			const saved = await b.post('/settings/backups?/schedule', {
				schedule: 'cron',
				cron: '* * * * * *',
				retention: '7',
				passphrase: ''
			});
			expect(saved.status).toBe(200);
			await expect.poll(() => failures().length, { timeout: 10_000 }).toBe(before + 1);
			await new Promise((r) => setTimeout(r, 6_000));
			expect(failures().slice(before)).toHaveLength(1);
			expect(failures().at(-1)).toMatch(/The backup folder \([^)]*\) is full/);
			expect(tmpFiles(backupsDir)).toEqual([]);
		} finally {
			await b.post('/settings/backups?/schedule', {
				schedule: 'off',
				cron: '',
				retention: '7',
				passphrase: ''
			});
			await app.sql`delete from "AuditEvent" where event = 'test.noise'`;
		}
	}, 30_000);

	test('a read-only folder: 507 that says so; the list is unchanged', async () => {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		const before = fs.readdirSync(backupsDir).sort();
		execFileSync('mount', ['-o', 'remount,ro', backupsDir]);
		try {
			const res = await create(b);
			expect(res.status).toBe(507);
			expect(res.html).toMatch(/The backup folder \([^)]*backups\) is on a read-only file system/);
		} finally {
			execFileSync('mount', ['-o', 'remount,rw', backupsDir]);
		}
		expect(fs.readdirSync(backupsDir).sort()).toEqual(before);
	});
});

describe('temporary files a killed backup left', () => {
	test('are removed at start, under the start-up housekeeping lock: this instance’s own at once, others’ after a day', async () => {
		const db = await freshDatabase();
		const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-tmp-'));
		const backupsDir = path.join(configDir, 'backups');
		fs.mkdirSync(backupsDir);
		const port = await freePort();
		const host = os.hostname().replace(/[^\w.-]/g, '_');
		const own = `.tmp-${host}-${port}-4242-0b0e5b8a`;
		const othersFresh = `.tmp-otherhost-3000-17-5f2d`;
		const othersOld = `.tmp-otherhost-3000-18-9a7c`;
		const copiedIn = 'librariarr-2026-01-02T03-04-05.000Z.json.gz';
		for (const name of [own, othersFresh, othersOld, copiedIn]) {
			fs.writeFileSync(path.join(backupsDir, name), 'partial');
		}
		const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
		fs.utimesSync(path.join(backupsDir, othersOld), twoDaysAgo, twoDaysAgo);

		// Another instance is in its start-up housekeeping: this one waits for it.
		const holder = await db.sql.reserve();
		await holder`select pg_advisory_lock(${HOUSEKEEPING_LOCK})`;
		const server = await startServer({
			databaseUrl: db.url,
			port,
			env: { CONFIG_DIR: configDir, SECRET_KEY: 'tmp-files' }
		});
		try {
			await new Promise((r) => setTimeout(r, 1000));
			expect(tmpFiles(backupsDir)).toContain(own);

			await holder`select pg_advisory_unlock(${HOUSEKEEPING_LOCK})`;
			await expect.poll(() => tmpFiles(backupsDir), { timeout: 10_000 }).toEqual([othersFresh]);
			// A backup copied into the folder by hand is recorded as this instance's.
			// (The files go before the housekeeping transaction commits: wait for its row too.)
			await expect
				.poll(async () => [...(await db.sql`select name, instance from "Backup"`)], {
					timeout: 10_000
				})
				.toEqual([{ name: copiedIn, instance: `${os.hostname()}:${port}` }]);
		} finally {
			holder.release();
			await server.stop();
			await db.sql.end();
			fs.rmSync(configDir, { recursive: true, force: true });
		}
	});
});
