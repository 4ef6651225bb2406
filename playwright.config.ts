import { spawnSync } from 'node:child_process';
import { defineConfig } from '@playwright/test';

// The port of the app under test must be known here (for `use.baseURL`), before globalSetup
// starts the server. E2E_PORT wins; otherwise ask the OS for a free one. The runner sets it in
// its own environment, so the worker processes (which re-read this file and inherit that
// environment) agree on the same port.
function pickFreePort(): string {
	const script =
		"const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";
	const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
	if (result.status !== 0 || !/^\d+$/.test(result.stdout)) {
		throw new Error(`Could not find a free port for the e2e server: ${result.stderr}`);
	}
	return result.stdout;
}

process.env.E2E_PORT ||= pickFreePort();
process.env.E2E_BASE_URL ||= `http://127.0.0.1:${process.env.E2E_PORT}`;
// The test OpenID Provider (started by globalSetup too) gets its own port the same way.
while (!process.env.E2E_IDP_PORT || process.env.E2E_IDP_PORT === process.env.E2E_PORT) {
	process.env.E2E_IDP_PORT = pickFreePort();
}

const chromiumArgs = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-dev-shm-usage',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run'
];

// Where this run writes its results. `npm test` runs the js and nojs projects as two Playwright
// processes at once, each with its own servers and folder (E2E_RESULTS_DIR), since their specs
// share one database and server within a run; alone, a run uses test-results/.
const resultsDir = process.env.E2E_RESULTS_DIR || 'test-results';

export default defineConfig({
	testDir: 'tests/e2e',
	outputDir: `${resultsDir}/artifacts`,
	fullyParallel: false,
	workers: 1,
	forbidOnly: true,
	// As for the integration tests (vite.config.ts): once more in CI, and named when that was needed.
	retries: process.env.CI ? 1 : 0,
	timeout: 30_000,
	expect: { timeout: 10_000 },
	reporter: [['list'], ['json', { outputFile: `${resultsDir}/e2e.json` }]],
	globalSetup: './tests/e2e/global-setup.ts',
	use: {
		baseURL: process.env.E2E_BASE_URL,
		browserName: 'chromium',
		launchOptions: {
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: chromiumArgs
		},
		trace: 'retain-on-failure'
	},
	projects: [
		{ name: 'js', use: { javaScriptEnabled: true } },
		{ name: 'nojs', use: { javaScriptEnabled: false } }
	]
});
