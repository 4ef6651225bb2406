#!/usr/bin/env node
// `npm test`: every check and every suite, in order, then one summary line that sums them:
//   check (types, lint, format) → build → vitest (unit, then integration) → Playwright (JS on and off).
// A later step still runs when an earlier one fails, so one run shows everything that is wrong.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

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
results.push({
	suite: 'vitest',
	passed: vitest?.numPassedTests ?? 0,
	failed: vitest ? vitest.numFailedTests + (vitestOk || vitest.numFailedTests ? 0 : 1) : 1,
	skipped: vitest ? vitest.numPendingTests + vitest.numTodoTests : 0
});

if (buildOk) {
	fs.rmSync('test-results/e2e.json', { force: true });
	const e2eOk = run('playwright', 'npx', ['playwright', 'test']);
	const e2e = readJson('test-results/e2e.json');
	const stats = e2e?.stats;
	results.push({
		suite: 'playwright',
		passed: stats ? stats.expected + stats.flaky : 0,
		failed: stats ? stats.unexpected + (e2eOk || stats.unexpected ? 0 : 1) : 1,
		skipped: stats?.skipped ?? 0
	});
} else {
	results.push({ suite: 'playwright', passed: 0, failed: 1, skipped: 0 });
}

console.log('\nSummary');
for (const r of results)
	console.log(
		`  ${r.suite.padEnd(11)} ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`
	);
const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
const skipped = results.reduce((n, r) => n + (r.skipped ?? 0), 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
