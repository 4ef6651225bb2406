import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vitest/config';
import { postgresClosedSocketFix } from './postgres-fix.js';

export default defineConfig({
	plugins: [postgresClosedSocketFix(), tailwindcss(), sveltekit()],
	// postgres.js goes into the build, with the fix above, instead of being loaded from node_modules.
	ssr: { noExternal: ['postgres'] },
	test: {
		testTimeout: 30_000,
		hookTimeout: 60_000,
		// Vitest's default is one worker less than the cores: one, on the 2-core machines this runs
		// on. The integration files mostly wait on their own server processes, and each has its own
		// database and ports, so two at a time finish sooner without getting in each other's way.
		maxWorkers: 2,
		// Two projects: `unit` needs neither a database nor a build (`npm run test:unit` takes
		// seconds); `integration` starts PostgreSQL once per run and drives the built server.
		projects: [
			{
				extends: true,
				test: {
					name: 'unit',
					include: ['tests/unit/**/*.test.ts'],
					// Pure tests: the files of a worker share their imports instead of loading them
					// again per file (about 10 s instead of 15 for the whole project on 2 cores).
					isolate: false
				}
			},
			{
				extends: true,
				test: {
					name: 'integration',
					include: ['tests/integration/**/*.test.ts'],
					globalSetup: ['tests/helpers/vitest-global-setup.ts'],
					// In CI a failed integration test runs once more, and `npm test` names every test
					// that passed only then (tests/run-all.js): a broken test still fails, a test that
					// lost a race with its server is reported rather than sinking the run.
					retry: process.env.CI ? 1 : 0
				}
			}
		]
	}
});
