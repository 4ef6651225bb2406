import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runningPostmaster } from '../../src/lib/server/plain/embedded-db.js';
import { browser } from '../helpers/app';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

// `npm start` with DATABASE_URL unset: the app brings up its own PostgreSQL in CONFIG_DIR.
describe('embedded PostgreSQL when DATABASE_URL is unset', () => {
	const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-config-'));
	// As root the embedded server runs as the `postgres` user, which must be able to enter the
	// directory (mkdtemp makes it 0700).
	fs.chmodSync(configDir, 0o755);
	afterAll(() => fs.rmSync(configDir, { recursive: true, force: true }));

	test('first start initialises it in CONFIG_DIR, a second start reuses the data', async () => {
		const env = { CONFIG_DIR: configDir, EMBEDDED_PG_PORT: String(await freePort()) };
		let server = await startServer({ databaseUrl: '', env });
		try {
			expect(server.logs()).toContain(`Initialising embedded PostgreSQL in ${configDir}/pg`);
			const res = await browser(server.url).post('/setup', {
				displayName: 'Ada',
				localUsername: 'admin',
				password: 'correct horse battery',
				confirmPassword: 'correct horse battery'
			});
			expect(res.status).toBe(303);
		} finally {
			await server.stop();
		}
		expect(fs.existsSync(path.join(configDir, 'pg', 'PG_VERSION'))).toBe(true);
		expect(fs.statSync(path.join(configDir, '.pg-password')).mode & 0o777).toBe(0o600);
		expect(server.logs()).toContain('Embedded PostgreSQL stopped');

		server = await startServer({ databaseUrl: '', env });
		try {
			expect(server.logs()).not.toContain('Initialising embedded PostgreSQL');
			const b = browser(server.url);
			expect((await b.get('/')).headers.get('location')).toBe('/login'); // not /setup: the user is still there
			expect((await b.signIn('admin', 'correct horse battery')).status).toBe(303);
		} finally {
			await server.stop();
		}
	}, 60_000);

	const dataDir = path.join(configDir, 'pg');
	const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
	async function gone(pid: number, withinMs: number) {
		const deadline = Date.now() + withinMs;
		while (Date.now() < deadline) {
			if (!fs.existsSync(`/proc/${pid}`)) return true;
			await sleep(100);
		}
		return false;
	}
	/** The watchdog shells (`sh -c 'read …; kill -INT PID'`) watching the postmaster `pid`. */
	function watchdogs(pid: number) {
		return fs
			.readdirSync('/proc')
			.filter((e) => /^\d+$/.test(e))
			.filter((e) => {
				try {
					const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
					return argv[0] === 'sh' && argv.includes(String(pid)) && argv[2]?.includes('kill -INT');
				} catch {
					return false;
				}
			})
			.map(Number);
	}

	test('a crash of the app (kill -9) takes its PostgreSQL with it, and the next start works', async () => {
		const env = { CONFIG_DIR: configDir, EMBEDDED_PG_PORT: String(await freePort()) };
		const server = await startServer({ databaseUrl: '', env });
		const postmaster = runningPostmaster(dataDir);
		expect(postmaster, 'the embedded server runs on CONFIG_DIR/pg').not.toBeNull();
		process.kill(server.pid, 'SIGKILL');
		await server.stop();
		expect(await gone(postmaster!, 10_000), 'PostgreSQL outlived the app').toBe(true);
		expect(runningPostmaster(dataDir)).toBeNull();

		const again = await startServer({ databaseUrl: '', env });
		try {
			expect((await browser(again.url).get('/')).headers.get('location')).toBe('/login');
		} finally {
			await again.stop();
		}
	}, 60_000);

	test('a PostgreSQL left running on this data directory is stopped cleanly at start', async () => {
		const env = { CONFIG_DIR: configDir, EMBEDDED_PG_PORT: String(await freePort()) };
		const first = await startServer({ databaseUrl: '', env });
		const leftover = runningPostmaster(dataDir)!;
		// As if it had been started without the watchdog (an older version, or one killed too).
		const dogs = watchdogs(leftover);
		expect(dogs.length, 'one watchdog per embedded server').toBe(1);
		for (const pid of dogs) process.kill(pid, 'SIGKILL');
		process.kill(first.pid, 'SIGKILL');
		await first.stop();
		await sleep(500);
		expect(runningPostmaster(dataDir), 'left running').toBe(leftover);

		const second = await startServer({ databaseUrl: '', env });
		try {
			expect(second.logs()).toContain(
				`Stopping the PostgreSQL (PID ${leftover}) an earlier start left running on ${dataDir}`
			);
			expect(await gone(leftover, 1_000)).toBe(true);
			const b = browser(second.url);
			expect((await b.signIn('admin', 'correct horse battery')).status).toBe(303);
		} finally {
			await second.stop();
		}
		expect(runningPostmaster(dataDir)).toBeNull();
	}, 60_000);
});
