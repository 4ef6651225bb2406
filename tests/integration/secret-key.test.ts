import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

// A client secret sealed with a key the server no longer has (SECRET_KEY changed, secret.key lost).
let app: App;
let configDir: string;
beforeAll(async () => {
	configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-key-'));
	app = await startApp({ SECRET_KEY: 'the key the server has now', CONFIG_DIR: configDir });
	await insertAdmin(app.sql);
	const sealed = seal('client secret', loadKey({ SECRET_KEY: 'the key that was lost' }));
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = 'https://idp.example.test',
			"oidcClientId" = 'librariarr', "oidcClientSecret" = ${sealed}
	`;
});
afterAll(async () => {
	await app?.stop();
	fs.rmSync(configDir, { recursive: true, force: true });
});

const warnings = () =>
	app
		.logs()
		.split('\n')
		.filter((l) => l.includes('cannot be decrypted'));

test('a secret that no longer decrypts is reported in the log once, not on every login page view', async () => {
	for (let i = 0; i < 5; i++) expect((await browser(app.url).get('/login')).status).toBe(200);
	const b = browser(app.url);
	await b.signIn();
	const settings = await (await b.get('/settings/authentication')).text();
	expect(settings).toContain('can no longer be decrypted');
	expect(warnings()).toHaveLength(1);
	expect(warnings()[0]).toMatch(/WARN/);

	// A new unreadable value (stored again under the lost key) is worth one more line.
	const other = seal('another secret', loadKey({ SECRET_KEY: 'the key that was lost' }));
	await app.sql`update "AppSettings" set "oidcClientSecret" = ${other}`;
	// (The login page no longer opens the secret: the rule's loader reads only whether one is set.)
	for (let i = 0; i < 3; i++) await b.get('/settings/authentication');
	expect(warnings()).toHaveLength(2);
});
