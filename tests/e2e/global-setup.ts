// Once per run: a real PostgreSQL with a fresh migrated database, and the built app (`node build`)
// on it, listening on the port playwright.config.ts chose; a real OpenID Provider (oidc-provider)
// whose clients send browsers back to that app; and a small static server with broken discovery
// documents for Test Discovery's failures. The tests reach them through E2E_BASE_URL,
// E2E_DATABASE_URL, E2E_IDP_ISSUER, E2E_DISCOVERY_FIXTURES_URL, and read the server's output,
// while it runs, from E2E_SERVER_LOG. The function returned here is the global teardown.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FullConfig } from '@playwright/test';
import { startIdp } from '../helpers/idp.js';
import { createTestDatabase, startTestPostgres } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function portFromEnv(name: string): number {
	const port = Number(process.env[name]);
	if (!Number.isInteger(port) || port <= 0) {
		throw new Error(`${name} is not set to a port (got ${process.env[name] ?? 'nothing'})`);
	}
	return port;
}

/**
 * Discovery documents that fail Test Discovery's checks:
 * /mismatch/… names another issuer (with every endpoint present), /broken/… names itself but has
 * no endpoints; anything else is a 404.
 */
async function startDiscoveryFixtures() {
	let base = '';
	const server = http.createServer((req, res) => {
		const send = (status: number, body: unknown) => {
			res.writeHead(status, { 'content-type': 'application/json' });
			res.end(JSON.stringify(body));
		};
		if (req.method === 'GET' && req.url === '/mismatch/.well-known/openid-configuration') {
			const other = 'http://127.0.0.1:9/someone-else';
			return send(200, {
				issuer: other,
				authorization_endpoint: `${other}/auth`,
				token_endpoint: `${other}/token`,
				jwks_uri: `${other}/jwks`
			});
		}
		if (req.method === 'GET' && req.url === '/broken/.well-known/openid-configuration') {
			return send(200, { issuer: `${base}/broken` });
		}
		send(404, { error: 'not_found' });
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return {
		url: base,
		stop: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			})
	};
}

export default async function globalSetup(_config: FullConfig) {
	// The helpers resolve `build/` and `sql/` against the working directory.
	if (process.cwd() !== repoRoot) process.chdir(repoRoot);

	if (!fs.existsSync(path.join(repoRoot, 'build', 'index.js'))) {
		throw new Error(
			'build/index.js is missing: the e2e tests run against the built app. ' +
				'Run `npx vite build` first (e.g. `npx vite build && npx playwright test`).'
		);
	}

	const port = portFromEnv('E2E_PORT');
	const idpPort = portFromEnv('E2E_IDP_PORT');
	const resultsDir = path.resolve(repoRoot, process.env.E2E_RESULTS_DIR || 'test-results');
	fs.mkdirSync(resultsDir, { recursive: true });
	const liveLog = path.join(resultsDir, 'e2e-server-live.log');
	fs.writeFileSync(liveLog, '');

	const pg = await startTestPostgres();
	let server: Awaited<ReturnType<typeof startServer>> | undefined;
	let idp: Awaited<ReturnType<typeof startIdp>> | undefined;
	let fixtures: Awaited<ReturnType<typeof startDiscoveryFixtures>> | undefined;
	const stopAll = async () => {
		await server?.stop();
		await idp?.stop();
		await fixtures?.stop();
	};
	try {
		const db = await createTestDatabase(pg);
		server = await startServer({
			databaseUrl: db.url,
			port,
			env: { LOG_LEVEL: 'info' },
			logFile: liveLog
		});
		idp = await startIdp({
			redirectUris: [`${server.url}/api/auth/sso/oidc/callback`],
			port: idpPort,
			logout: true
		});
		fixtures = await startDiscoveryFixtures();
		process.env.E2E_BASE_URL = server.url;
		process.env.E2E_DATABASE_URL = db.url;
		process.env.E2E_IDP_ISSUER = idp.issuer;
		process.env.E2E_DISCOVERY_FIXTURES_URL = fixtures.url;
		process.env.E2E_SERVER_LOG = liveLog;
		console.log(
			`e2e: PostgreSQL ${pg.kind}; app at ${server.url}; IdP at ${idp.issuer}; ` +
				`discovery fixtures at ${fixtures.url}`
		);
	} catch (error) {
		await stopAll();
		await pg.stop();
		throw error;
	}

	return async () => {
		await stopAll();
		// Kept for reading after a failure (the server's own log lines, no secrets).
		fs.mkdirSync(resultsDir, { recursive: true });
		fs.writeFileSync(path.join(resultsDir, 'e2e-server.log'), server?.logs() ?? '');
		await pg.stop();
	};
}
