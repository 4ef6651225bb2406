import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { buildIsCurrent } from '../../scripts/build-state.js';
import { freshDatabase, insertAdmin } from '../helpers/app';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

// Starting the app: `node build` (the image) and `npm start` (a clone). Bad settings end the
// start in one line each before anything else happens; a signal to whichever process gets it
// stops the app and its embedded PostgreSQL.

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A fresh CONFIG_DIR; as root the embedded PostgreSQL runs as `postgres`, which must enter it. */
function configDir() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-start-'));
	fs.chmodSync(dir, 0o755);
	dirs.push(dir);
	return dir;
}

/** The environment of a clean start: no inherited settings, the embedded PostgreSQL on its own port. */
async function cleanEnv(dir: string, env: Record<string, string> = {}) {
	const base: Record<string, string | undefined> = { ...process.env };
	for (const name of [
		'DATABASE_URL',
		'ORIGIN',
		'TRUSTED_PROXIES',
		'SSO_DISABLE_OVERRIDE',
		'COOKIE_SECURE',
		'LOG_LEVEL',
		'BODY_SIZE_LIMIT',
		'npm_config_loglevel'
	]) {
		delete base[name];
	}
	return {
		...base,
		CONFIG_DIR: dir,
		HOST: '127.0.0.1',
		PORT: String(await freePort()),
		EMBEDDED_PG_PORT: String(await freePort()),
		...env
	};
}

type Run = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Run {
	const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
	let text = '';
	child.stdout!.on('data', (chunk) => (text += chunk));
	child.stderr!.on('data', (chunk) => (text += chunk));
	const exited = new Promise<number | null>((resolve) =>
		child.once('exit', (code) => resolve(code))
	);
	return { child, output: () => text, exited };
}

async function waitFor(check: () => boolean, what: () => string, ms = 30_000) {
	const deadline = Date.now() + ms;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`Timed out waiting; so far:\n${what()}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

/** A process counts as gone when it no longer exists or is only a zombie nobody reaped yet. */
function alive(pid: number) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

/** Every live process whose command line mentions `text`. */
function processesMentioning(text: string) {
	return fs
		.readdirSync('/proc')
		.filter((name) => /^\d+$/.test(name))
		.map(Number)
		.filter((pid) => {
			try {
				return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text) && alive(pid);
			} catch {
				return false;
			}
		});
}

function childrenOf(pid: number) {
	return fs
		.readdirSync('/proc')
		.filter((name) => /^\d+$/.test(name))
		.map(Number)
		.filter((p) => {
			try {
				const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
				return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
			} catch {
				return false;
			}
		});
}

describe('a bad setting ends the start in one line, before the database starts', () => {
	test.each([
		['TRUSTED_PROXIES', 'garbage'],
		['PORT', 'abc'],
		['ORIGIN', 'librariarr.example.com'],
		['LOG_LEVEL', 'loud'],
		['EMBEDDED_PG_PORT', 'x'],
		['DATABASE_URL', 'localhost:5432'],
		['BODY_SIZE_LIMIT', 'lots']
	])('node build with %s=%j', async (name, value) => {
		const dir = configDir();
		const start = run(process.execPath, ['build'], await cleanEnv(dir, { [name]: value }));
		expect(await start.exited).toBe(1);
		const lines = start.output().trim().split('\n');
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(
			new RegExp(`^Cannot start: ${name}=${JSON.stringify(value)} .*Example: ${name}=\\S+`)
		);
		expect(start.output()).not.toMatch(/^\s+at /m); // no stack
		expect(fs.existsSync(path.join(dir, 'pg'))).toBe(false); // the database never started
	});

	test('several bad settings: one line for each', async () => {
		const dir = configDir();
		const env = await cleanEnv(dir, { PORT: '99999', TRUSTED_PROXIES: '10.0.0.0/33' });
		const start = run(process.execPath, ['build'], env);
		expect(await start.exited).toBe(1);
		const lines = start.output().trim().split('\n');
		expect(lines.map((l) => l.split('=')[0]).sort()).toEqual([
			'Cannot start: PORT',
			'Cannot start: TRUSTED_PROXIES'
		]);
	});

	test('a port already in use gets a plain message and the database is not started', async () => {
		const dir = configDir();
		const env = await cleanEnv(dir);
		const taken = net.createServer();
		await new Promise<void>((resolve) => taken.listen(Number(env.PORT), '127.0.0.1', resolve));
		try {
			const start = run(process.execPath, ['build'], env);
			expect(await start.exited).toBe(1);
			expect(start.output().trim()).toBe(
				`Cannot start: PORT=${env.PORT}: port ${env.PORT} on 127.0.0.1 is already in use by another program (is Librariarr already running?). Stop it, or choose another port. Example: PORT=3000`
			);
			expect(fs.existsSync(path.join(dir, 'pg'))).toBe(false);
		} finally {
			taken.close();
		}
	});

	test('npm start checks the same way, before it would build', async () => {
		const dir = configDir();
		const start = run('npm', ['start'], await cleanEnv(dir, { TRUSTED_PROXIES: 'garbage' }));
		expect(await start.exited).not.toBe(0);
		expect(start.output()).toContain(
			'Cannot start: TRUSTED_PROXIES="garbage" is not an IP address or CIDR range. Example: TRUSTED_PROXIES=172.18.0.0/16,10.0.0.2'
		);
		expect(start.output()).not.toContain('Building');
		expect(start.output()).not.toMatch(/^\s+at /m);
	});
});

describe('the start log', () => {
	const dbs: Awaited<ReturnType<typeof freshDatabase>>[] = [];
	afterAll(() => Promise.all(dbs.map((db) => db.sql.end())));

	test('ends with the address to open, and on first run says to create the administrator', async () => {
		const db = await freshDatabase();
		dbs.push(db);
		const origin = 'https://librariarr.example.com';
		let server = await startServer({ databaseUrl: db.url, env: { ORIGIN: origin } });
		await server.stop();
		let lines = server.logs().trim().split('\n');
		const listening = lines.findIndex((l) => l.startsWith('Listening on'));
		expect(lines[listening + 1]).toMatch(
			/ INFO Open https:\/\/librariarr\.example\.com to create the administrator account$/
		);

		await insertAdmin(db.sql);
		server = await startServer({ databaseUrl: db.url });
		await server.stop();
		lines = server.logs().trim().split('\n');
		const after = lines[lines.findIndex((l) => l.startsWith('Listening on')) + 1];
		expect(after).toMatch(new RegExp(` INFO Open http://127\\.0\\.0\\.1:${server.port}$`));
	});

	test.each([
		['true', 'SSO_DISABLE_OVERRIDE is on: SSO sign-in is off everywhere'],
		['on', 'SSO_DISABLE_OVERRIDE="on" is not understood and counts as off']
	])('SSO_DISABLE_OVERRIDE=%j is warned about at start', async (value, warning) => {
		const db = await freshDatabase();
		dbs.push(db);
		const server = await startServer({
			databaseUrl: db.url,
			env: { SSO_DISABLE_OVERRIDE: value }
		});
		await server.stop();
		expect(server.logs()).toMatch(
			new RegExp(` WARN ${warning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)
		);
	});

	test('no warning when the override is unset', async () => {
		const db = await freshDatabase();
		dbs.push(db);
		const server = await startServer({ databaseUrl: db.url });
		await server.stop();
		expect(server.logs()).not.toContain('SSO_DISABLE_OVERRIDE');
	});
});

describe('npm start', () => {
	test.each([
		['npm', 'SIGTERM'],
		['npm', 'SIGINT'],
		['app', 'SIGTERM']
	] as const)(
		'with an up-to-date build it does not build; %s sent %s stops the app and its PostgreSQL',
		async (target, signal) => {
			expect(buildIsCurrent(process.cwd()), 'build/ is older than src/: build first').toBe(true);
			const dir = configDir();
			const start = run('npm', ['start'], await cleanEnv(dir));
			await waitFor(() => / INFO Open http:/.test(start.output()), start.output, 45_000);
			expect(start.output()).not.toContain('Building');

			const npmPid = start.child.pid!;
			const [appPid] = childrenOf(npmPid);
			expect(appPid).toBeGreaterThan(0);
			const postgres = processesMentioning(path.join(dir, 'pg'));
			expect(postgres.length).toBeGreaterThan(0);

			try {
				process.kill(target === 'npm' ? npmPid : appPid, signal);
				await waitFor(
					() => !alive(appPid) && processesMentioning(path.join(dir, 'pg')).length === 0,
					start.output,
					20_000
				);
				await start.exited;
				expect(alive(npmPid)).toBe(false);
				expect(fs.existsSync(path.join(dir, 'pg', 'postmaster.pid'))).toBe(false);
				expect(start.output()).toContain('Embedded PostgreSQL stopped');
			} finally {
				// When the test fails, leave nothing running behind it.
				if (alive(appPid)) process.kill(appPid, 'SIGTERM');
				await waitFor(() => !alive(appPid), start.output, 15_000).catch(() => {});
			}
		},
		60_000
	);
});
