// Secrets from files, as Docker and Podman secrets give them: the built server reads
// DATABASE_URL_FILE (and METRICS_TOKEN_FILE), and refuses to start, in one line naming both, when
// a variable and its _FILE form are both set.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { freshDatabase } from '../helpers/app';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

let dir: string;
let db: Awaited<ReturnType<typeof freshDatabase>>;

beforeAll(async () => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-secrets-'));
	db = await freshDatabase();
});
afterAll(async () => {
	await db?.sql.end();
	fs.rmSync(dir, { recursive: true, force: true });
});

function secret(name: string, value: string) {
	const file = path.join(dir, name);
	fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
	return file;
}

test('DATABASE_URL_FILE and METRICS_TOKEN_FILE are read as the variables would be', async () => {
	const token = 'from-a-file-0123456789abcdef';
	const server = await startServer({
		databaseUrl: '',
		env: {
			DATABASE_URL_FILE: secret('database_url', db.url),
			METRICS_TOKEN_FILE: secret('metrics_token', token),
			CONFIG_DIR: dir
		}
	});
	try {
		expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
		const metrics = await fetch(`${server.url}/metrics`, {
			headers: { authorization: `Bearer ${token}` }
		});
		expect(metrics.status).toBe(200);
		// It is the database in the file: the app migrated it and answers from it.
		const [row] = await db.sql`select count(*)::int as n from "AppSettings"`;
		expect(row.n).toBe(1);
	} finally {
		await server.stop();
	}
});

test('a variable and its _FILE form both set: the start stops with one line naming both', async () => {
	const child = spawn(process.execPath, [path.resolve('build')], {
		env: {
			...process.env,
			PORT: String(await freePort()),
			HOST: '127.0.0.1',
			DATABASE_URL: db.url,
			DATABASE_URL_FILE: secret('database_url_too', db.url),
			CONFIG_DIR: dir
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let out = '';
	child.stdout.on('data', (c) => (out += c));
	child.stderr.on('data', (c) => (out += c));
	const code = await new Promise<number | null>((r) => child.once('exit', r));
	expect(code).toBe(1);
	expect(out.trim().split('\n')).toEqual([
		'Cannot start: DATABASE_URL and DATABASE_URL_FILE are both set: keep one (DATABASE_URL_FILE names a file that holds the value, such as a Docker secret).'
	]);
	expect(out).not.toContain(db.url);
});
