// Several instances on one database. They must share the instance key: one whose key differs
// refuses to start with one line that says so. And every instance lists every backup, saying so
// when the file is on another instance's disk.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, freshDatabase, insertAdmin } from '../helpers/app';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

const dirs: string[] = [];
function configDir() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-instance-'));
	dirs.push(dir);
	return dir;
}
afterAll(() => {
	for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `node build` to its end (it should not start): exit code and output. */
async function failedStart(databaseUrl: string, env: Record<string, string | undefined>) {
	const child = spawn(process.execPath, [path.resolve('build')], {
		env: {
			...process.env,
			PORT: String(await freePort()),
			HOST: '127.0.0.1',
			DATABASE_URL: databaseUrl,
			ORIGIN: undefined,
			SECRET_KEY: undefined,
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let out = '';
	child.stdout.on('data', (c) => (out += c));
	child.stderr.on('data', (c) => (out += c));
	const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
	const code = await new Promise<number | null>((r) => child.once('exit', r));
	clearTimeout(timer);
	return { code, out };
}

describe('the instance key', () => {
	test('an instance whose SECRET_KEY differs from the first one refuses to start, in one line', async () => {
		const db = await freshDatabase();
		try {
			const first = await startServer({
				databaseUrl: db.url,
				env: { SECRET_KEY: 'the shared key', CONFIG_DIR: configDir() }
			});
			try {
				const [stored] = await db.sql<{ fingerprint: string }[]>`
					select fingerprint from "InstanceKey"
				`;
				expect(stored.fingerprint).toMatch(/^[\w-]{43}$/);
				expect(stored.fingerprint).not.toContain('shared');

				const other = await failedStart(db.url, {
					SECRET_KEY: 'another key',
					CONFIG_DIR: configDir()
				});
				expect(other.code).toBe(1);
				const lines = other.out.split('\n').filter((l) => l.startsWith('Cannot start:'));
				expect(lines).toHaveLength(1);
				expect(lines[0]).toMatch(
					/^Cannot start: the instance key is not the one this database was first used with/
				);
				expect(lines[0]).toContain('give every instance the same SECRET_KEY (or SECRET_KEY_FILE)');
				expect(other.out).not.toContain('another key');
				expect(other.out).not.toMatch(/\n\s+at /); // no stack trace

				// No SECRET_KEY: each CONFIG_DIR generates its own secret.key, which differs too.
				const generated = await failedStart(db.url, { CONFIG_DIR: configDir() });
				expect(generated.code).toBe(1);
				expect(generated.out).toContain('Cannot start: the instance key is not the one');

				// The same key starts, also from a file (SECRET_KEY_FILE, as Docker secrets give it).
				const dir = configDir();
				fs.writeFileSync(path.join(dir, 'key'), 'the shared key\n');
				const second = await startServer({
					databaseUrl: db.url,
					env: { SECRET_KEY_FILE: path.join(dir, 'key'), CONFIG_DIR: dir }
				});
				await second.stop();
				const unreadable = await failedStart(db.url, {
					SECRET_KEY_FILE: path.join(dir, 'missing'),
					CONFIG_DIR: dir
				});
				expect(unreadable.code).toBe(1);
				expect(unreadable.out).toContain(
					`Cannot start: SECRET_KEY_FILE="${path.join(dir, 'missing')}" cannot be read (ENOENT).`
				);
				const rows = await db.sql`select fingerprint from "InstanceKey"`;
				expect(rows).toEqual([{ fingerprint: stored.fingerprint }]);
			} finally {
				await first.stop();
			}
		} finally {
			await db.sql.end();
		}
	}, 90_000);
});

describe('backups on two instances with their own folders', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let a: Awaited<ReturnType<typeof startServer>>;
	let b: Awaited<ReturnType<typeof startServer>>;
	let dirA: string;
	let dirB: string;

	beforeAll(async () => {
		db = await freshDatabase();
		await insertAdmin(db.sql);
		dirA = configDir();
		dirB = configDir();
		const env = { SECRET_KEY: 'two instances', BACKUP_TICK_SECONDS: '1' };
		[a, b] = await Promise.all([
			startServer({ databaseUrl: db.url, env: { ...env, CONFIG_DIR: dirA } }),
			startServer({ databaseUrl: db.url, env: { ...env, CONFIG_DIR: dirB } })
		]);
	});
	afterAll(async () => {
		await a?.stop();
		await b?.stop();
		await db?.sql.end();
	});

	test('each lists every backup, says which are not on its disk, and refuses those plainly', async () => {
		const onA = browser(a.url);
		expect((await onA.signIn()).status).toBe(303);
		const made = await (await onA.post('/settings/backups?/create', { passphrase: '' })).text();
		const name = /Backup (librariarr-[^ ]+) created/.exec(made)![1];
		expect(fs.existsSync(path.join(dirA, 'backups', name))).toBe(true);

		const onB = browser(b.url);
		expect((await onB.signIn()).status).toBe(303);
		const page = await (await onB.get('/settings/backups')).text();
		expect(page).toContain(name);
		expect(page).toContain(`Not on this instance's disk: written by ${os.hostname()}:${a.port}`);
		// On A the same backup is simply there.
		expect(await (await onA.get('/settings/backups')).text()).not.toContain(
			'data-testid="not-here"'
		);

		const download = await onB.get(`/settings/backups/download/${name}`);
		expect(download.status).toBe(404);
		expect(await download.text()).toContain(`on the disk of the instance that wrote it`);

		const form = new FormData();
		form.append('name', name);
		form.append('confirm', 'on');
		const restore = await fetch(`${b.url}/settings/backups?/restore`, {
			method: 'POST',
			headers: {
				accept: 'text/html',
				origin: b.url,
				cookie: [...onB.jar].map(([k, v]) => `${k}=${v}`).join('; ')
			},
			body: form,
			redirect: 'manual'
		});
		expect(restore.status).toBe(404);
		expect(await restore.text()).toContain(`(${os.hostname()}:${a.port}), not on this instance`);

		// Deleted on B: gone from both lists at once, and A removes the file from its disk.
		expect((await onB.post('/settings/backups?/delete', { name })).status).toBe(200);
		expect(await (await onA.get('/settings/backups')).text()).not.toContain(name);
		await expect
			.poll(() => fs.existsSync(path.join(dirA, 'backups', name)), { timeout: 15_000 })
			.toBe(false);
	}, 60_000);
});
