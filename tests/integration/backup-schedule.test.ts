// Scheduled backups with two instances on one database and one backups folder: a schedule saved
// on one instance takes effect on both without a restart, and each occurrence is backed up once
// (pg_try_advisory_lock around a run, "lastBackupAt" read again under the lock).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { browser, freshDatabase, insertAdmin, startApp, type App } from '../helpers/app';

let a: App;
let b: App;
let configDir: string;
let backupsDir: string;

beforeAll(async () => {
	configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-schedule-'));
	backupsDir = path.join(configDir, 'backups');
	const db = await freshDatabase();
	// The scheduler ticks every 2 seconds here (10 in production), so a 6-second schedule shows.
	const env = { CONFIG_DIR: configDir, SECRET_KEY: 'schedule test key', BACKUP_TICK_SECONDS: '2' };
	a = await startApp(env, db);
	b = await startApp(env, db);
	await insertAdmin(a.sql);
});
afterAll(async () => {
	await b?.stop();
	await a?.stop();
	fs.rmSync(configDir, { recursive: true, force: true });
});

function files() {
	return fs.existsSync(backupsDir)
		? fs.readdirSync(backupsDir).filter((n) => !n.startsWith('.'))
		: [];
}

function stamp(name: string) {
	const m = /^librariarr-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2}\.\d{3})Z/.exec(name)!;
	return new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}Z`).getTime();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a cron schedule runs on one instance per occurrence, and "off" stops it, without restarts', async () => {
	const admin = browser(a.url);
	expect((await admin.signIn()).status).toBe(303);
	expect(files()).toEqual([]);
	const saved = await admin.post('/settings/backups?/schedule', {
		schedule: 'cron',
		cron: '*/6 * * * * *',
		retention: '20',
		passphrase: ''
	});
	expect(saved.status).toBe(200);

	const deadline = Date.now() + 30_000;
	while (files().length < 2 && Date.now() < deadline) await sleep(500);
	const made = files();
	expect(made.length).toBeGreaterThanOrEqual(2);
	// one backup per 6-second occurrence, never two (both instances tick at the same moments)
	const slots = made.map((n) => Math.floor(stamp(n) / 6_000));
	expect(new Set(slots).size).toBe(slots.length);
	// A backup's file is in place a moment before its audit row commits: wait for the rows of the
	// files counted above, then every row names a file (a later occurrence may have begun).
	const backupRows = () =>
		a.sql<{ detail: { scheduled?: boolean } }[]>`
			select detail from "AuditEvent" where event = 'backup.created'`;
	let audited = await backupRows();
	while (audited.length < made.length && Date.now() < deadline + 10_000) {
		await sleep(200);
		audited = await backupRows();
	}
	expect(audited.length).toBeGreaterThanOrEqual(made.length);
	expect(audited.length).toBeLessThanOrEqual(files().length);
	expect(audited.every((r) => r.detail.scheduled === true)).toBe(true);

	// switched off on the other instance: no more backups anywhere
	const other = browser(b.url);
	expect((await other.signIn()).status).toBe(303);
	const off = await other.post('/settings/backups?/schedule', {
		schedule: 'off',
		cron: '',
		retention: '20',
		passphrase: ''
	});
	expect(off.status).toBe(200);
	// A run that had already started may still finish: wait until no file has appeared for 3 s.
	let count = files().length;
	for (let still = 0, waited = 0; still < 3_000 && waited < 20_000; waited += 500) {
		await sleep(500);
		const now = files().length;
		still = now === count ? still + 500 : 0;
		count = now;
	}
	await sleep(9_000); // an occurrence and its tick, and then some
	expect(files().length).toBe(count);
}, 90_000);
