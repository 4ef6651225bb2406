#!/usr/bin/env node
// `npm test`: every check and every suite, in order, then one summary line that sums them:
//   check (types, lint, format) → build → vitest (unit, then integration) → Playwright (JS on and
//   off) → the image (podman builds the Dockerfile and runs it).
// A later step still runs when an earlier one fails, so one run shows everything that is wrong.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';

/** @type {{ suite: string, passed: number, failed: number, skipped?: number }[]} */
const results = [];

/** @param {string} name @param {string} command @param {string[]} args @param {Record<string, string>} [env] */
function run(name, command, args, env = {}) {
	console.log(`\n=== ${name}: ${command} ${args.join(' ')}`);
	const started = Date.now();
	const r = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
	console.log(
		`=== ${name}: exit ${r.status ?? r.signal} in ${((Date.now() - started) / 1000).toFixed(1)} s`
	);
	return r.status === 0;
}

/**
 * Ports nobody listens on, distinct from each other: all are held open at once before any is
 * released, so two Playwright runs started together never pick the same one.
 * @param {number} count @returns {Promise<number[]>}
 */
async function freePorts(count) {
	const servers = await Promise.all(
		Array.from(
			{ length: count },
			() =>
				new Promise((resolve) => {
					const server = net.createServer();
					server.listen(0, '127.0.0.1', () => resolve(server));
				})
		)
	);
	const ports = servers.map((s) => /** @type {net.AddressInfo} */ (s.address()).port);
	await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
	return ports;
}

/**
 * The specs of a Playwright JSON report that passed only on their retry.
 * @param {any} report @param {string} project @returns {string[]}
 */
function flakySpecs(report, project) {
	/** @type {string[]} */
	const names = [];
	/** @param {any} suite @param {string[]} titles */
	const walk = (suite, titles) => {
		const here = suite.title ? [...titles, suite.title] : titles;
		for (const spec of suite.specs ?? [])
			if (spec.tests?.some((/** @type {any} */ t) => t.status === 'flaky'))
				names.push(
					`playwright (${project}): ${spec.file}:${spec.line} > ${[...here.slice(1), spec.title].join(' > ')}`
				);
		for (const child of suite.suites ?? []) walk(child, here);
	};
	for (const suite of report.suites ?? []) walk(suite, []);
	return names;
}

/**
 * One Playwright project (js or nojs) as its own process, with its own app, database and IdP
 * (the specs of one project share them and run one at a time), so that both projects run at
 * once. Each line of its output is prefixed with the project's name.
 * @param {string} project @param {number} port @param {number} idpPort
 * @returns {Promise<{ ok: boolean, stats: any, flaky: string[] }>}
 */
async function runPlaywright(project, port, idpPort) {
	const dir = `test-results/e2e-${project}`;
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir, { recursive: true });
	console.log(`\n=== playwright (${project}): npx playwright test --project=${project}`);
	const started = Date.now();
	const child = spawn('npx', ['playwright', 'test', `--project=${project}`], {
		stdio: ['ignore', 'pipe', 'pipe'],
		env: {
			...process.env,
			E2E_RESULTS_DIR: dir,
			E2E_PORT: String(port),
			E2E_IDP_PORT: String(idpPort),
			E2E_BASE_URL: `http://127.0.0.1:${port}`
		}
	});
	for (const stream of [child.stdout, child.stderr]) {
		readline
			.createInterface({ input: stream })
			.on('line', (line) => console.log(`[${project}] ${line}`));
	}
	const code = await new Promise((resolve) =>
		child.on('close', (c, signal) => resolve(c ?? signal))
	);
	console.log(
		`=== playwright (${project}): exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`
	);
	const report = readJson(`${dir}/e2e.json`);
	return { ok: code === 0, stats: report?.stats, flaky: report ? flakySpecs(report, project) : [] };
}

/** @param {string} file */
function readJson(file) {
	try {
		return JSON.parse(fs.readFileSync(file, 'utf8'));
	} catch {
		return null;
	}
}

fs.mkdirSync('test-results', { recursive: true });

// `npm run check`: types (svelte-check), lint (ESLint) and format (Prettier). A lint or format
// error fails the run like a failing test.
const checkOk =
	run('check', 'npx', ['svelte-kit', 'sync']) &&
	run('check', 'npx', ['svelte-check', '--tsconfig', './tsconfig.json', '--threshold', 'error']) &&
	run('check', 'npx', ['eslint', '.']) &&
	run('check', 'npx', ['prettier', '--check', '.']);
results.push({ suite: 'check', passed: checkOk ? 1 : 0, failed: checkOk ? 0 : 1 });

const buildOk = run('build', 'npx', ['vite', 'build', '--logLevel', 'warn']);
results.push({ suite: 'build', passed: buildOk ? 1 : 0, failed: buildOk ? 0 : 1 });

fs.rmSync('test-results/vitest.json', { force: true });
const vitestOk = run('vitest', 'npx', [
	'vitest',
	'run',
	'--reporter=default',
	'--reporter=json',
	'--outputFile.json=test-results/vitest.json'
]);
const vitest = readJson('test-results/vitest.json');
/** Tests that failed once and passed when run again (CI retries once): named in the summary. */
const secondTry = (vitest?.testResults ?? []).flatMap((/** @type {any} */ file) =>
	file.assertionResults
		.filter((/** @type {any} */ t) => t.status === 'passed' && t.failureMessages?.length)
		.map(
			(/** @type {any} */ t) =>
				`vitest: ${file.name.replace(`${process.cwd()}/`, '')} > ${t.fullName}`
		)
);
results.push({
	suite: 'vitest',
	passed: vitest?.numPassedTests ?? 0,
	failed: vitest ? vitest.numFailedTests + (vitestOk || vitest.numFailedTests ? 0 : 1) : 1,
	skipped: vitest ? vitest.numPendingTests + vitest.numTodoTests : 0
});

if (buildOk) {
	// Four distinct ports, two per Playwright run (its app and its IdP).
	const [a, b, c, d] = await freePorts(4);
	const projects = await Promise.all([runPlaywright('js', a, b), runPlaywright('nojs', c, d)]);
	const stats = projects.map((p) => p.stats);
	secondTry.push(...projects.flatMap((p) => p.flaky));
	results.push({
		suite: 'playwright',
		passed: stats.reduce((n, s) => n + (s ? s.expected + s.flaky : 0), 0),
		failed: projects.reduce(
			(n, { ok, stats: s }) => n + (s ? s.unexpected + (ok || s.unexpected ? 0 : 1) : 1),
			0
		),
		skipped: stats.reduce((n, s) => n + (s?.skipped ?? 0), 0)
	});
} else {
	results.push({ suite: 'playwright', passed: 0, failed: 1, skipped: 0 });
}

// The real image: podman builds the Dockerfile and runs it as a container (tests/image/).
fs.rmSync('test-results/image.json', { force: true });
const imageOk = run('image', 'node', ['tests/image/image-test.js']);
const image = readJson('test-results/image.json');
results.push({
	suite: 'image',
	passed: image?.passed ?? 0,
	failed: image ? image.failed + (imageOk || image.failed ? 0 : 1) : 1
});

console.log('\nSummary');
if (secondTry.length) {
	console.log(`  passed only when run a second time (${secondTry.length}):`);
	for (const name of secondTry) console.log(`    ${name}`);
}
for (const r of results)
	console.log(
		`  ${r.suite.padEnd(11)} ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`
	);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
const skipped = results.reduce((n, r) => n + (r.skipped ?? 0), 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
