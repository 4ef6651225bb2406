import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [tailwindcss(), sveltekit()],
	test: {
		testTimeout: 30_000,
		hookTimeout: 60_000,
		// Two projects: `unit` needs neither a database nor a build (`npm run test:unit` takes
		// seconds); `integration` starts PostgreSQL once per run and drives the built server.
		projects: [
			{ extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
			{
				extends: true,
				test: {
					name: 'integration',
					include: ['tests/integration/**/*.test.ts'],
					globalSetup: ['tests/helpers/vitest-global-setup.ts']
				}
			}
		]
	}
});
