// The Docker image's runtime, proved without Docker (no engine runs on this machine or in CI).
//
// The Dockerfile is parsed (dockerfile-ast) and its runtime stage rebuilt in a temporary folder
// that stands for the image's root: the build stage's products (package.json, the production
// node_modules from `npm ci --omit=dev`, build/, sql/) and the files from the build context go
// where its COPY lines put them, and every RUN line must be one this test knows how to reproduce.
// Then ENTRYPOINT + CMD run from WORKDIR with the image's ENV, as an unprivileged uid (setpriv),
// the way `docker run --user UID:GID -e CONFIG_DIR=… -e PORT=…` would: CONFIG_DIR and PORT are
// moved to a fresh folder and a free port, everything else is the image's. So a change of the
// Dockerfile that this test does not follow fails it.
//
// Not reproduced: the base image itself (this machine's Node and Debian stand in for it; the
// packages the runtime stage installs must be installed here, .ci/run sees to that), and Node
// being PID 1 of a PID namespace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import {
	DockerfileParser,
	type Copy,
	type Env,
	type Instruction,
	type Healthcheck
} from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { browser } from '../helpers/app';
import { freePort, withDatabase } from '../helpers/pg.js';

const REPO = process.cwd();
const DOCKERFILE = fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
const DOCKERIGNORE = fs
	.readFileSync(path.join(REPO, '.dockerignore'), 'utf8')
	.split('\n')
	.map((l) => l.trim())
	.filter((l) => l && !l.startsWith('#'));
// Docker's PATH when the image sets none of its own (the node image keeps this one).
const DOCKER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// The base image's `node` user.
const NODE_USER = { uid: 1000, gid: 1000 };
const PASSWORD = 'correct horse battery';

// ---- the Dockerfile, read --------------------------------------------------------------------

const dockerfile = DockerfileParser.parse(DOCKERFILE);
const froms = dockerfile.getFROMs();
const lineOf = (i: Instruction) => i.getRange().start.line;

/** The instructions of the stage that starts at froms[index]. */
function stage(index: number) {
	const start = lineOf(froms[index]);
	const end = index + 1 < froms.length ? lineOf(froms[index + 1]) : Infinity;
	return dockerfile.getInstructions().filter((i) => lineOf(i) > start && lineOf(i) < end);
}

const buildStage = stage(0);
const runtimeStage = stage(froms.length - 1);
const ofKind = (instructions: Instruction[], keyword: string) =>
	instructions.filter((i) => i.getKeyword() === keyword);
const last = (instructions: Instruction[], keyword: string) => ofKind(instructions, keyword).at(-1);

/** CMD, ENTRYPOINT and HEALTHCHECK CMD in exec (JSON) form; shell form is refused. */
function execForm(text: string, what: string): string[] {
	try {
		const argv = JSON.parse(text);
		if (Array.isArray(argv) && argv.every((a) => typeof a === 'string')) return argv;
	} catch {
		// fall through
	}
	throw new Error(`${what} must be in exec form (a JSON array of strings), got: ${text}`);
}

/** Docker durations such as 30s, 1m30s, 500ms. */
function duration(text: string) {
	let ms = 0;
	for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
		ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
	return ms;
}

const runtime = (() => {
	const env: Record<string, string> = {};
	for (const e of ofKind(runtimeStage, 'ENV') as Env[])
		for (const p of e.getProperties()) env[p.getName()] = p.getValue() ?? '';
	const healthcheck = last(runtimeStage, 'HEALTHCHECK') as Healthcheck | undefined;
	const healthFlags = Object.fromEntries(
		(healthcheck?.getFlags() ?? []).map((f) => [f.getName(), f.getValue() ?? ''])
	);
	const healthText = healthcheck?.getArgumentsContent() ?? '';
	const entrypoint = last(runtimeStage, 'ENTRYPOINT');
	const cmd = last(runtimeStage, 'CMD');
	return {
		workdir: last(runtimeStage, 'WORKDIR')?.getArgumentsContent() ?? '/',
		env,
		user: last(runtimeStage, 'USER')?.getArgumentsContent() ?? 'root',
		copies: (ofKind(runtimeStage, 'COPY') as Copy[]).map((c) => {
			const args = c.getArguments().map((a) => a.getValue());
			return {
				from: c.getFromFlag()?.getValue() ?? null,
				chmod:
					c
						.getFlags()
						.find((f) => f.getName() === 'chmod')
						?.getValue() ?? null,
				sources: args.slice(0, -1),
				dest: args.at(-1)!
			};
		}),
		runs: ofKind(runtimeStage, 'RUN').map(
			(r) => r.getArgumentsContent()?.replace(/\s+/g, ' ') ?? ''
		),
		volumes: ofKind(runtimeStage, 'VOLUME').flatMap((v) =>
			v.getArguments().map((a) => a.getValue())
		),
		expose: ofKind(runtimeStage, 'EXPOSE').flatMap((v) =>
			v.getArguments().map((a) => a.getValue())
		),
		healthcheck: healthcheck
			? {
					flags: healthFlags,
					argv: execForm(healthText.replace(/^CMD\s+/i, ''), 'HEALTHCHECK CMD'),
					timeoutMs: duration(healthFlags.timeout ?? '30s'),
					startPeriodMs: duration(healthFlags['start-period'] ?? '0s')
				}
			: null,
		argv: [
			...(entrypoint ? execForm(entrypoint.getArgumentsContent() ?? '', 'ENTRYPOINT') : []),
			...(cmd ? execForm(cmd.getArgumentsContent() ?? '', 'CMD') : [])
		]
	};
})();

/** `apt-get install` lines of the runtime stage: the Debian packages it adds, with versions. */
const APT_RUN =
	/^apt-get update && apt-get install -y --no-install-recommends ((?:[a-z0-9.+-]+=[^\s&]+ ?)+) && rm -rf \/var\/lib\/apt\/lists\/\* \/var\/cache\/apt\/\*\.bin$/;
const MKDIR_RUN = /^mkdir -p (\S+) && chown (\S+):(\S+) (\S+)$/;

// ---- rebuilding the runtime stage --------------------------------------------------------------

const cleanups: (() => void)[] = [];
const children = new Set<ChildProcess>();

function tempDir(prefix: string, mode = 0o755) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	fs.chmodSync(dir, mode);
	cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
	return dir;
}

/**
 * What the build stage leaves in its WORKDIR, made on this machine: the production install in a
 * temporary copy of package.json + lock, and the already built build/ and sql/ of the repository.
 */
function buildStageProducts() {
	const dir = tempDir('librariarr-build-stage-');
	for (const f of ['package.json', 'package-lock.json'])
		fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
	const npm = spawnSync(
		'npm',
		['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
		{ cwd: dir, encoding: 'utf8', timeout: 240_000 }
	);
	if (npm.status !== 0) throw new Error(`npm ci --omit=dev failed: ${npm.stderr || npm.stdout}`);
	if (!fs.existsSync(path.join(REPO, 'build', 'index.js')))
		throw new Error('build/ is missing: run `npx vite build` first');
	for (const d of ['build', 'sql'])
		fs.cpSync(path.join(REPO, d), path.join(dir, d), { recursive: true });
	return dir;
}

/** The image's root folder with what the runtime stage's COPY and RUN lines put into it. */
function rebuildRuntimeStage(products: string) {
	const root = tempDir('librariarr-image-');
	const buildWorkdir = last(buildStage, 'WORKDIR')?.getArgumentsContent() ?? '/';
	const inRoot = (p: string) => path.join(root, p);
	const appDir = inRoot(runtime.workdir);
	fs.mkdirSync(appDir, { recursive: true });
	for (const copy of runtime.copies) {
		for (const source of copy.sources) {
			let from: string;
			if (copy.from === 'build') {
				const rel = path.posix.relative(buildWorkdir, source);
				if (rel.startsWith('..'))
					throw new Error(`COPY --from=build ${source}: outside its WORKDIR`);
				from = path.join(products, rel);
			} else if (copy.from === null) {
				expect(DOCKERIGNORE, `${source} is in .dockerignore, so COPY cannot find it`).not.toContain(
					source
				);
				from = path.join(REPO, source);
			} else throw new Error(`COPY --from=${copy.from}: this test knows only the build stage`);
			if (!fs.existsSync(from)) throw new Error(`COPY ${source}: not made by the build stage here`);
			const dest = path.posix.isAbsolute(copy.dest)
				? inRoot(copy.dest)
				: path.join(appDir, copy.dest);
			const target = copy.dest.endsWith('/') ? path.join(dest, path.basename(source)) : dest;
			fs.mkdirSync(path.dirname(target), { recursive: true });
			fs.cpSync(from, target, { recursive: true, verbatimSymlinks: true });
			if (copy.chmod) fs.chmodSync(target, parseInt(copy.chmod, 8));
		}
	}
	for (const run of runtime.runs) {
		const apt = APT_RUN.exec(run);
		const mkdir = MKDIR_RUN.exec(run);
		if (apt) {
			// The image's Debian packages must be on this machine too (.ci/run installs them).
			for (const pkg of apt[1]
				.trim()
				.split(' ')
				.map((p) => p.split('=')[0])) {
				const q = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
				expect(q.stdout, `Debian package ${pkg} (installed by the image)`).toBe(
					'install ok installed'
				);
			}
		} else if (mkdir) {
			// The config folder for the default user: every run below makes a fresh one.
			expect(mkdir[1]).toBe(runtime.env.CONFIG_DIR);
			expect(mkdir[4]).toBe(runtime.env.CONFIG_DIR);
			// ... owned by the default PUID:PGID, so that a new named volume needs no chown.
			expect(`${mkdir[2]}:${mkdir[3]}`).toBe('node:node');
		} else {
			throw new Error(`The runtime stage runs \`${run}\`: teach this test to reproduce it`);
		}
	}
	// ENTRYPOINT's program, found in the image's root.
	const argv = [...runtime.argv];
	if (path.posix.isAbsolute(argv[0])) argv[0] = inRoot(argv[0]);
	return { root, appDir, argv };
}

let image: ReturnType<typeof rebuildRuntimeStage>;

/** Made once per run (the production install takes a while), by the first describe needing it. */
function useImage() {
	beforeAll(() => {
		if (process.getuid?.() !== 0)
			throw new Error('This test runs the image as other uids (setpriv) and needs root.');
		image ??= rebuildRuntimeStage(buildStageProducts());
	}, 300_000);
}

afterAll(() => {
	for (const child of children) child.kill('SIGKILL');
	for (const dir of new Set(pgDirs))
		for (const p of postgresProcesses(dir)) process.kill(p.pid, 'SIGKILL');
	while (cleanups.length) cleanups.pop()!();
});

// ---- running it --------------------------------------------------------------------------------

type User = { uid: number; gid: number };
const pgDirs: string[] = [];

/** `docker run --user`: the same program as that uid and gid, no supplementary groups. */
function asUser(user: User, argv: string[]) {
	return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...argv];
}

/** A fresh config folder owned by the user, like a bind-mounted host directory. */
function configFor(user: User) {
	const parent = tempDir('librariarr-volume-');
	const config = path.join(parent, 'config');
	fs.mkdirSync(config);
	fs.chownSync(config, user.uid, user.gid);
	const tmp = path.join(parent, 'tmp');
	fs.mkdirSync(tmp, { mode: 0o1777 });
	fs.chmodSync(tmp, 0o1777);
	return { config, tmp };
}

/** The container's environment: the image's ENV plus what `docker run -e` sets. */
function containerEnv(overrides: Record<string, string>): Record<string, string> {
	return { PATH: DOCKER_PATH, HOME: '/', ...runtime.env, ...overrides };
}

/** Running processes of the postgres binary on this data directory, with their uid. */
function postgresProcesses(dataDir: string) {
	const found: { pid: number; uid: number }[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
			if (!argv[0].endsWith('postgres') || !argv.includes(dataDir)) continue;
			const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
			found.push({ pid: Number(entry), uid: Number(/^Uid:\s+(\d+)/m.exec(status)![1]) });
		} catch {
			// the process ended meanwhile
		}
	}
	return found;
}

function run(user: User, argv: string[], env: Record<string, string>, timeoutMs = 30_000) {
	const [file, ...args] = asUser(user, argv);
	return spawnSync(file, args, { cwd: image.appDir, env, encoding: 'utf8', timeout: timeoutMs });
}

/** `docker start`: ENTRYPOINT + CMD as the user, from WORKDIR; resolves once /healthz answers. */
async function startContainer(user: User, env: Record<string, string>) {
	const [file, ...args] = asUser(user, image.argv);
	const started = Date.now();
	const child = spawn(file, args, { cwd: image.appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
	children.add(child);
	let output = '';
	child.stdout!.on('data', (c) => (output += c));
	child.stderr!.on('data', (c) => (output += c));
	const exited = new Promise<number | null>((resolve) =>
		child.once('exit', (code) => {
			children.delete(child);
			resolve(code);
		})
	);
	const url = `http://127.0.0.1:${env.PORT}`;
	for (;;) {
		if (child.exitCode !== null || child.signalCode !== null)
			throw new Error(`The container exited early:\n${output}`);
		const ok = await fetch(`${url}/healthz`).then(
			(r) => r.ok,
			() => false
		);
		if (ok) break;
		if (Date.now() - started > 60_000) throw new Error(`Not healthy after 60 s:\n${output}`);
		await new Promise((r) => setTimeout(r, 200));
	}
	return {
		url,
		startedInMs: Date.now() - started,
		output: () => output,
		/** The uid the container's main process runs as now (it exec'd its way to Node). */
		uid: () =>
			Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]),
		/** `docker stop`: SIGTERM to the entrypoint's process (Node, after its exec). */
		async stop() {
			const t0 = Date.now();
			child.kill('SIGTERM');
			const code = await Promise.race([
				exited,
				new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))
			]);
			return { code, ms: Date.now() - t0 };
		}
	};
}

/** Docker's health probe: the HEALTHCHECK command, in the container (no entrypoint), timed out. */
function healthcheck(user: User, env: Record<string, string>) {
	const hc = runtime.healthcheck!;
	return run(user, hc.argv, env, hc.timeoutMs).status;
}

/** `docker cp scripts/reset-auth.js …:/tmp/` then `docker exec … node /tmp/reset-auth.js status`. */
function resetAuthStatus(user: User, env: Record<string, string>) {
	const dir = tempDir('librariarr-docker-cp-');
	const script = path.join(dir, 'reset-auth.js');
	fs.copyFileSync(path.join(REPO, 'scripts', 'reset-auth.js'), script);
	return run(user, ['node', script, 'status'], env);
}

/**
 * One container's life: first start, first-run setup, health probe, SIGTERM, start again on the
 * same /config (and database), the data still there, the recovery script, SIGTERM again.
 */
async function lifecycle(user: User, extraEnv: Record<string, string> = {}) {
	const { config, tmp } = configFor(user);
	const dataDir = path.join(config, 'pg');
	pgDirs.push(dataDir);
	const env = containerEnv({
		CONFIG_DIR: config,
		PORT: String(await freePort()),
		EMBEDDED_PG_PORT: String(await freePort()),
		TMPDIR: tmp,
		...extraEnv
	});
	const embedded = !env.DATABASE_URL;

	let app = await startContainer(user, env);
	expect(app.startedInMs, 'first start within the HEALTHCHECK start period').toBeLessThan(
		runtime.healthcheck!.startPeriodMs
	);
	if (embedded) {
		const pg = postgresProcesses(dataDir);
		expect(pg.length, 'embedded PostgreSQL running on CONFIG_DIR/pg').toBeGreaterThan(0);
		expect(new Set(pg.map((p) => p.uid))).toEqual(new Set([user.uid]));
	}
	expect(healthcheck(user, env), 'HEALTHCHECK while running').toBe(0);
	const setup = await browser(app.url).post('/setup', {
		displayName: 'Ada',
		localUsername: 'admin',
		password: PASSWORD,
		confirmPassword: PASSWORD
	});
	expect(setup.status, app.output()).toBe(303);

	// Exit status 0 or 143 (128 + SIGTERM) are both a clean stop for Docker; what counts is the time.
	let stopped = await app.stop();
	expect(stopped.code, `SIGTERM ends the app within 10 s:\n${app.output()}`).not.toBe('timeout');
	expect(postgresProcesses(dataDir), 'no PostgreSQL left after SIGTERM').toEqual([]);
	expect(healthcheck(user, env), 'HEALTHCHECK once stopped').not.toBe(0);
	expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(embedded);

	app = await startContainer(user, env);
	const b = browser(app.url);
	expect((await b.get('/')).headers.get('location'), 'the admin survived the restart').toBe(
		'/login'
	);
	expect((await b.signIn('admin', PASSWORD)).status).toBe(303);
	const status = resetAuthStatus(user, env);
	expect(status.status, status.stderr + status.stdout).toBe(0);
	expect(status.stdout).toContain('Users (1):');
	expect(status.stdout).toContain('local username: admin');

	stopped = await app.stop();
	expect(stopped.code, `SIGTERM ends the app within 10 s:\n${app.output()}`).not.toBe('timeout');
	expect(stopped.ms).toBeLessThan(10_000);
	expect(postgresProcesses(dataDir)).toEqual([]);
	return { config, output: app.output() };
}

// ---- the tests -----------------------------------------------------------------------------

describe('the Dockerfile', () => {
	test('passes the Dockerfile linter (dockerfile-utils) without a problem', () => {
		expect(validate(DOCKERFILE)).toEqual([]);
	});

	test('pins every base image to one exact release, never latest', () => {
		for (const from of froms) {
			const tag = from.getImageTag();
			expect(tag, from.getImage() ?? '').toBeTruthy();
			expect(tag).not.toBe('latest');
			expect(tag, 'a full version such as 24.11.1').toMatch(/^\d+\.\d+\.\d+(-|$)/);
		}
		expect(new Set(froms.map((f) => f.getImage())).size, 'both stages on the same base').toBe(1);
	});

	test('starts as root for its entrypoint only (which drops to PUID:PGID), with a HEALTHCHECK and exec-form ENTRYPOINT/CMD', () => {
		// No USER: the entrypoint starts as root and drops before the command (tested below).
		expect(runtime.user).toBe('root');
		expect(runtime.argv[0]).toBe('/usr/local/bin/librariarr-entrypoint.sh');
		expect(runtime.healthcheck, 'HEALTHCHECK').not.toBeNull();
		expect(runtime.healthcheck!.argv[0]).toBe('node');
		expect(runtime.argv.slice(-2)).toEqual(['node', 'build']);
		expect(runtime.volumes).toEqual([runtime.env.CONFIG_DIR]);
		expect(runtime.expose).toEqual([runtime.env.PORT]);
		expect(ofKind(runtimeStage, 'ADD'), 'COPY, not ADD').toEqual([]);
		expect(runtime.workdir).toMatch(/^\//);
	});

	test('installs Debian packages pinned, without recommends, and drops the apt lists', () => {
		const apt = runtime.runs.filter((r) => r.includes('apt-get'));
		for (const r of apt) expect(r).toMatch(APT_RUN);
	});

	test('leaves the recovery script out of the image', () => {
		expect(DOCKERIGNORE).toContain('scripts');
		for (const c of runtime.copies) for (const s of c.sources) expect(s).not.toMatch(/scripts/);
	});

	test('builds the way this test reproduces it: npm ci, build, then prune to production', () => {
		const recipe = buildStage
			.filter((i) => ['COPY', 'RUN'].includes(i.getKeyword()))
			.map((i) => `${i.getKeyword()} ${i.getArgumentsContent()}`);
		expect(recipe).toEqual([
			'COPY package.json package-lock.json ./',
			'RUN npm ci',
			'COPY . .',
			'RUN npm run build',
			'RUN npm prune --omit=dev'
		]);
	});
});

// Needs the npm registry: the runtime stage's node_modules are made by `npm ci --omit=dev` (from
// the npm cache when it holds every package, else from the registry).
describe('the image run without Docker, as the runtime stage describes it [needs the npm registry]', () => {
	useImage();

	test('as uid 1000 (the image user) with the embedded PostgreSQL: healthy, keeps data across a restart, stops on SIGTERM within 10 s, recovery script runs from /app', async () => {
		await lifecycle(NODE_USER);
	}, 180_000);

	test('as uid 4242, which has no passwd entry, with the embedded PostgreSQL: the same', async () => {
		expect(spawnSync('getent', ['passwd', '4242']).status, 'uid 4242 has no entry here').not.toBe(
			0
		);
		await lifecycle({ uid: 4242, gid: 4242 });
	}, 180_000);

	test('as uid 4242 with DATABASE_URL set: migrates a fresh database, no embedded PostgreSQL, the same', async () => {
		const { adminUrl, prefix } = inject('pg');
		const name = `${prefix}_docker_${randomBytes(4).toString('hex')}`;
		const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
		await admin.unsafe(`create database "${name}"`);
		try {
			const { config } = await lifecycle(
				{ uid: 4242, gid: 4242 },
				{ DATABASE_URL: withDatabase(adminUrl, name) }
			);
			expect(fs.existsSync(path.join(config, 'pg'))).toBe(false);
		} finally {
			await admin.unsafe(`drop database if exists "${name}" with (force)`);
			await admin.end();
		}
	}, 180_000);
});

describe('the entrypoint', () => {
	useImage();

	test('refuses a CONFIG_DIR the uid cannot write, saying how to fix it', () => {
		const { config } = configFor(NODE_USER);
		const r = run({ uid: 4242, gid: 4242 }, image.argv, containerEnv({ CONFIG_DIR: config }));
		expect(r.status).toBe(1);
		expect(r.stderr).toContain(`uid 4242 cannot write to ${config}`);
		expect(r.stderr).toContain('chown -R 4242:4242');
		expect(r.stderr).toContain('--user 1000:1000');
	});

	const ROOT = { uid: 0, gid: 0 };
	/** The entrypoint run as `user` with `command` for CMD; its exit status and output. */
	const probe = (user: User, env: Record<string, string>, command: string) =>
		run(user, [image.argv[0], 'sh', '-c', command], containerEnv({ TMPDIR: '/tmp', ...env }));

	test('started as root, drops to PUID:PGID before the command: 1000:1000 by default, any other when set', () => {
		const { config } = configFor(NODE_USER);
		const byDefault = probe(ROOT, { CONFIG_DIR: config }, 'id -u; id -g; id -G');
		expect(byDefault.status, byDefault.stderr).toBe(0);
		expect(byDefault.stdout.split('\n').slice(0, 3)).toEqual(['1000', '1000', '1000']);

		const other = configFor(NODE_USER).config;
		const chosen = probe(
			ROOT,
			{ CONFIG_DIR: other, PUID: '4242', PGID: '4343' },
			'id -u; id -g; id -un; echo "$HOME"'
		);
		expect(chosen.status, chosen.stderr).toBe(0);
		expect(chosen.stdout.split('\n').slice(0, 4)).toEqual(['4242', '4343', 'librariarr', other]);
	});

	test('started as root, refuses PUID/PGID 0 and values that are not numbers', () => {
		const { config } = configFor(NODE_USER);
		const root = probe(ROOT, { CONFIG_DIR: config, PUID: '0', PGID: '0' }, 'id -u');
		expect(root.status).toBe(1);
		expect(root.stderr).toContain('would run the app as root');
		expect(root.stdout).toBe('');
		const word = probe(ROOT, { CONFIG_DIR: config, PUID: 'abc' }, 'id -u');
		expect(word.status).toBe(1);
		expect(word.stderr).toContain('PUID="abc" is not a number');
	});

	test('honours UMASK (and refuses one that is not octal) and passes TZ on to Node', () => {
		const { config } = configFor(NODE_USER);
		const masked = probe(ROOT, { CONFIG_DIR: config, UMASK: '027' }, 'umask');
		expect(masked.stdout.trim()).toBe('0027');
		const bad = probe(ROOT, { CONFIG_DIR: config, UMASK: '999' }, 'umask');
		expect(bad.status).toBe(1);
		expect(bad.stderr).toContain('UMASK="999" is not an octal mask');
		const zone = probe(
			ROOT,
			{ CONFIG_DIR: config, TZ: 'Europe/Berlin' },
			`node -e 'console.log(Intl.DateTimeFormat().resolvedOptions().timeZone)'`
		);
		expect(zone.stdout.trim(), zone.stderr).toBe('Europe/Berlin');
	});

	test('started as root with PUID/PGID, gives a /config owned by another uid to them, and the app and its PostgreSQL run as them', async () => {
		const user = { uid: 4242, gid: 4242 };
		const { config, tmp } = configFor(NODE_USER);
		fs.mkdirSync(path.join(config, 'backups'));
		fs.writeFileSync(path.join(config, 'backups', 'old.txt'), 'x');
		fs.chownSync(path.join(config, 'backups'), 1000, 1000);
		fs.chownSync(path.join(config, 'backups', 'old.txt'), 1000, 1000);
		const dataDir = path.join(config, 'pg');
		pgDirs.push(dataDir);
		const env = containerEnv({
			CONFIG_DIR: config,
			TMPDIR: tmp,
			PUID: '4242',
			PGID: '4242',
			PORT: String(await freePort()),
			EMBEDDED_PG_PORT: String(await freePort())
		});
		const app = await startContainer(ROOT, env);
		for (const p of [
			config,
			path.join(config, 'backups'),
			path.join(config, 'backups', 'old.txt')
		]) {
			const st = fs.statSync(p);
			expect(`${st.uid}:${st.gid}`, p).toBe('4242:4242');
		}
		const pg = postgresProcesses(dataDir);
		expect(pg.length).toBeGreaterThan(0);
		expect(new Set(pg.map((p) => p.uid))).toEqual(new Set([user.uid]));
		expect(app.uid(), 'the app process').toBe(user.uid);
		const stopped = await app.stop();
		expect(stopped.code, app.output()).not.toBe('timeout');
		expect(postgresProcesses(dataDir)).toEqual([]);
	}, 120_000);

	test('refuses PUID/PGID that differ from its uid when started with --user, pointing to --user', () => {
		const { config } = configFor(NODE_USER);
		const r = run(
			NODE_USER,
			image.argv,
			containerEnv({ CONFIG_DIR: config, PUID: '911', PGID: '911' })
		);
		expect(r.status).toBe(1);
		expect(r.stderr).toContain('docker run --user 911:911');
	});

	test('is what lets a uid without a passwd entry start the embedded PostgreSQL: without it, the app stops with a message saying so', async () => {
		const user = { uid: 4242, gid: 4242 };
		const { config, tmp } = configFor(user);
		const env = containerEnv({
			CONFIG_DIR: config,
			TMPDIR: tmp,
			PORT: String(await freePort()),
			EMBEDDED_PG_PORT: String(await freePort())
		});
		const r = run(user, runtime.argv.slice(-2), env); // CMD alone, no ENTRYPOINT
		expect(r.status).not.toBe(0);
		expect(r.stdout + r.stderr).toContain(
			'The embedded PostgreSQL needs a passwd entry for uid 4242, and there is none.'
		);
		expect(fs.existsSync(path.join(config, 'pg'))).toBe(false);
	});

	test('gives a uid without a passwd entry one, and leaves a known uid as it is', () => {
		const probe = (user: User) => {
			const { config, tmp } = configFor(user);
			const argv = [image.argv[0], 'sh', '-c', 'id -un; echo "${LD_PRELOAD:-none}"'];
			return run(user, argv, containerEnv({ CONFIG_DIR: config, TMPDIR: tmp })).stdout.split('\n');
		};
		const [name4242, preload4242] = probe({ uid: 4242, gid: 4242 });
		expect(name4242).toBe('librariarr');
		expect(preload4242).toMatch(/libnss_wrapper\.so$/);
		// nobody (65534) is in every Debian passwd, as node (1000) is in the image's.
		const [nameNobody, preloadNobody] = probe({ uid: 65534, gid: 65534 });
		expect(nameNobody).toBe('nobody');
		expect(preloadNobody).toBe('none');
	});
});
