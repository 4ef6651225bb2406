// Once per run: a real PostgreSQL with a fresh migrated database, and the built app (`node build`)
// on it, listening on the port playwright.config.ts chose. The tests reach them through
// E2E_BASE_URL and E2E_DATABASE_URL. The function returned here is the global teardown.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FullConfig } from '@playwright/test';
import { createTestDatabase, startTestPostgres } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function globalSetup(_config: FullConfig) {
	// The helpers resolve `build/` and `sql/` against the working directory.
	if (process.cwd() !== repoRoot) process.chdir(repoRoot);

	if (!fs.existsSync(path.join(repoRoot, 'build', 'index.js'))) {
		throw new Error(
			'build/index.js is missing: the e2e tests run against the built app. ' +
				'Run `npx vite build` first (e.g. `npx vite build && npx playwright test`).'
		);
	}

	const port = Number(process.env.E2E_PORT);
	if (!Number.isInteger(port) || port <= 0) {
		throw new Error(`E2E_PORT is not set to a port (got ${process.env.E2E_PORT ?? 'nothing'})`);
	}

	const pg = await startTestPostgres();
	let server: Awaited<ReturnType<typeof startServer>> | undefined;
	try {
		const db = await createTestDatabase(pg);
		server = await startServer({ databaseUrl: db.url, port, env: { LOG_LEVEL: 'info' } });
		process.env.E2E_BASE_URL = server.url;
		process.env.E2E_DATABASE_URL = db.url;
		console.log(`e2e: PostgreSQL ${pg.kind}; app at ${server.url}`);
	} catch (error) {
		await server?.stop();
		await pg.stop();
		throw error;
	}

	return async () => {
		await server?.stop();
		// Kept for reading after a failure (the server's own log lines, no secrets).
		fs.mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
		fs.writeFileSync(path.join(repoRoot, 'test-results', 'e2e-server.log'), server?.logs() ?? '');
		await pg.stop();
	};
}
