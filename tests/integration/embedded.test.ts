import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { browser } from '../helpers/app';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

// `npm start` with DATABASE_URL unset: the app brings up its own PostgreSQL in CONFIG_DIR.
describe('embedded PostgreSQL when DATABASE_URL is unset', () => {
	const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-config-'));
	// As root the embedded server runs as the `postgres` user, which must be able to enter the
	// directory (mkdtemp makes it 0700).
	fs.chmodSync(configDir, 0o755);
	afterAll(() => fs.rmSync(configDir, { recursive: true, force: true }));

	test('first start initialises it in CONFIG_DIR, a second start reuses the data', async () => {
		const env = { CONFIG_DIR: configDir, EMBEDDED_PG_PORT: String(await freePort()) };
		let server = await startServer({ databaseUrl: '', env });
		try {
			expect(server.logs()).toContain(`Initialising embedded PostgreSQL in ${configDir}/pg`);
			const res = await browser(server.url).post('/setup', {
				displayName: 'Ada',
				localUsername: 'admin',
				password: 'correct horse battery',
				confirmPassword: 'correct horse battery'
			});
			expect(res.status).toBe(303);
		} finally {
			await server.stop();
		}
		expect(fs.existsSync(path.join(configDir, 'pg', 'PG_VERSION'))).toBe(true);
		expect(fs.statSync(path.join(configDir, '.pg-password')).mode & 0o777).toBe(0o600);
		expect(server.logs()).toContain('Embedded PostgreSQL stopped');

		server = await startServer({ databaseUrl: '', env });
		try {
			expect(server.logs()).not.toContain('Initialising embedded PostgreSQL');
			const b = browser(server.url);
			expect((await b.get('/')).headers.get('location')).toBe('/login'); // not /setup: the user is still there
			expect((await b.signIn('admin', 'correct horse battery')).status).toBe(303);
		} finally {
			await server.stop();
		}
	}, 60_000);
});
