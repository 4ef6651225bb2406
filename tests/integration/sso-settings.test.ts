import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { open, loadKey } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

const SECRET_KEY = 'integration-test-key';
let app: App;
beforeAll(async () => {
	app = await startApp({ SECRET_KEY });
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`
		update "AppSettings" set "ssoEnabled" = false, "ssoMode" = 'OIDC', "oidcIssuer" = null,
			"oidcClientId" = null, "oidcClientSecret" = null, "previousSsoConfig" = null,
			"oidcScopes" = 'openid profile email', "localAuthEnabled" = true
	`;
	await insertAdmin(app.sql);
});

const connection = (over: Record<string, string> = {}) => ({
	ssoMode: 'OIDC',
	oidcIssuer: 'https://auth.example.com/application/o/librariarr/',
	oidcClientId: 'librariarr',
	oidcClientSecret: 'first secret',
	oidcScopes: 'openid profile email',
	oidcUsernameClaim: 'preferred_username',
	forwardAuthUserHeader: 'Remote-User',
	forwardAuthEmailHeader: 'Remote-Email',
	forwardAuthNameHeader: 'Remote-Name',
	...over
});

async function admin() {
	const b = browser(app.url);
	expect((await b.signIn()).status).toBe(303);
	return b;
}

async function settingsRow() {
	const [row] = await app.sql`select * from "AppSettings"`;
	return row;
}

describe('step 1: save, snapshot, revert', () => {
	test('the client secret is stored sealed and never sent back to the browser', async () => {
		const b = await admin();
		const res = await b.post('/settings/authentication?/saveConnection', connection());
		expect(res.status).toBe(200);
		const html = await res.text();
		expect(html).toContain('Configuration saved.');
		expect(html).not.toContain('first secret');
		const row = await settingsRow();
		expect(row.oidcClientSecret).not.toContain('first secret');
		expect(open(row.oidcClientSecret, loadKey({ SECRET_KEY }))).toBe('first secret');
		const page = await (await b.get('/settings/authentication')).text();
		expect(page).not.toContain('first secret');
		expect(page).toContain('A secret is saved. Leave this empty to keep it.');
	});

	test('an empty secret field keeps the stored secret; the removal box clears it', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		const sealed = (await settingsRow()).oidcClientSecret;
		await b.post(
			'/settings/authentication?/saveConnection',
			connection({ oidcClientSecret: '', oidcClientId: 'other' })
		);
		expect((await settingsRow()).oidcClientSecret).toBe(sealed);
		await b.post(
			'/settings/authentication?/saveConnection',
			connection({ oidcClientSecret: '', clearClientSecret: 'on' })
		);
		expect((await settingsRow()).oidcClientSecret).toBeNull();
	});

	test('bad input is refused per field and changes nothing', async () => {
		const b = await admin();
		const before = await settingsRow();
		const res = await b.post(
			'/settings/authentication?/saveConnection',
			connection({ oidcScopes: 'profile', oidcIssuer: 'nope', oidcClientSecret: 'typed secret' })
		);
		expect(res.status).toBe(400);
		const html = await res.text();
		expect(html).toContain('The scopes must include openid.');
		expect(html).toContain('Enter the issuer as an http(s) URL');
		expect(html).not.toContain('typed secret');
		expect(await settingsRow()).toEqual(before);
	});

	test('a save that changes something snapshots the previous settings; Revert restores them and forces SSO off', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		const first = await settingsRow();
		expect(first.previousSsoConfig).not.toBeNull(); // the empty initial settings
		await b.post(
			'/settings/authentication?/saveConnection',
			connection({
				oidcIssuer: 'https://broken.example.com',
				oidcClientSecret: 'second secret',
				oidcScopes: 'openid email'
			})
		);
		const second = await settingsRow();
		expect(second.previousSsoConfig).toMatchObject({
			oidcIssuer: first.oidcIssuer,
			oidcClientId: 'librariarr',
			oidcClientSecret: first.oidcClientSecret
		});
		expect(second.ssoConfigVersion).toBeGreaterThan(first.ssoConfigVersion);

		// a save that changes nothing keeps the snapshot as it is
		await b.post(
			'/settings/authentication?/saveConnection',
			connection({
				oidcIssuer: 'https://broken.example.com',
				oidcClientSecret: '',
				oidcScopes: 'openid email'
			})
		);
		expect((await settingsRow()).previousSsoConfig).toEqual(second.previousSsoConfig);

		await app.sql`update "AppSettings" set "ssoEnabled" = true`;
		const page = await (await b.get('/settings/authentication')).text();
		expect(page).toContain('Revert to Previous');
		const res = await b.post('/settings/authentication?/revert', {});
		expect(res.status).toBe(200);
		const reverted = await settingsRow();
		expect(reverted).toMatchObject({
			oidcIssuer: first.oidcIssuer,
			oidcClientSecret: first.oidcClientSecret,
			oidcScopes: 'openid profile email',
			ssoEnabled: false,
			previousSsoConfig: null
		});
		expect(reverted.ssoConfigVersion).toBeGreaterThan(second.ssoConfigVersion);
		expect(await (await b.get('/settings/authentication')).text()).not.toContain(
			'Revert to Previous'
		);
		expect((await b.post('/settings/authentication?/revert', {})).status).toBe(409);
	});

	test('the client authentication setting is saved, snapshotted and reverted; unknown values are refused', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		expect((await settingsRow()).oidcClientAuthMethod).toBe('auto');
		await b.post(
			'/settings/authentication?/saveConnection',
			connection({ oidcClientSecret: '', oidcClientAuthMethod: 'client_secret_post' })
		);
		const saved = await settingsRow();
		expect(saved.oidcClientAuthMethod).toBe('client_secret_post');
		expect(saved.previousSsoConfig.oidcClientAuthMethod).toBe('auto');
		const page = await (await b.get('/settings/authentication')).text();
		expect(page).toMatch(/<option value="client_secret_post" selected/);

		const bad = await b.post(
			'/settings/authentication?/saveConnection',
			connection({ oidcClientSecret: '', oidcClientAuthMethod: 'private_key_jwt' })
		);
		expect(bad.status).toBe(400);
		expect(await bad.text()).toContain(
			'Choose how the client authenticates to the token endpoint.'
		);
		expect((await settingsRow()).oidcClientAuthMethod).toBe('client_secret_post');

		await b.post('/settings/authentication?/revert', {});
		expect((await settingsRow()).oidcClientAuthMethod).toBe('auto');
	});

	test('reverting restores forward-auth header names too', async () => {
		const b = await admin();
		await b.post(
			'/settings/authentication?/saveConnection',
			connection({ ssoMode: 'FORWARD_AUTH' })
		);
		await b.post(
			'/settings/authentication?/saveConnection',
			connection({ ssoMode: 'FORWARD_AUTH', forwardAuthUserHeader: 'X-authentik-username' })
		);
		expect((await settingsRow()).forwardAuthUserHeader).toBe('X-authentik-username');
		await b.post('/settings/authentication?/revert', {});
		expect((await settingsRow()).forwardAuthUserHeader).toBe('Remote-User');
	});
});

describe('steps 2 and 3: link, enable, unlink', () => {
	test('enabling SSO is refused until an identity is linked for the current issuer', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		const refused = await b.post('/settings/authentication?/saveSso', { ssoEnabled: 'on' });
		expect(refused.status).toBe(409);
		expect(await refused.text()).toContain(
			'Link your identity for the current SSO settings in step 2'
		);
		expect((await settingsRow()).ssoEnabled).toBe(false);

		const linked = await b.post('/settings/authentication?/linkManual', {
			subject: '  b8f3e2c4-1234  '
		});
		expect(linked.status).toBe(200);
		const [user] = await app.sql`select "ssoSubject", "ssoIssuer", "ssoProvider" from "User"`;
		expect(user).toEqual({
			ssoSubject: 'b8f3e2c4-1234',
			ssoIssuer: 'https://auth.example.com/application/o/librariarr/',
			ssoProvider: 'oidc'
		});
		expect((await b.post('/settings/authentication?/saveSso', { ssoEnabled: 'on' })).status).toBe(
			200
		);
		expect((await settingsRow()).ssoEnabled).toBe(true);
	});

	test('with SSO on, the login page offers SSO and hides the local form', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		await b.post('/settings/authentication?/linkManual', { subject: 'grace' });
		await b.post('/settings/authentication?/saveSso', { ssoEnabled: 'on' });
		const page = await (await browser(app.url).get('/login')).text();
		expect(page).toContain('Sign in with SSO');
		expect(page).not.toContain('id="password"');
		// and a local POST is refused too
		expect((await browser(app.url).signIn()).status).toBe(403);
	});

	test('while a configuration is saved but nobody is linked, only the admin setting it up sees SSO on the login page, next to the local form', async () => {
		const b = await admin();
		expect(await (await browser(app.url).get('/login')).text()).not.toContain('Sign in with SSO');
		await b.post('/settings/authentication?/saveConnection', connection());
		await b.get('/settings/authentication');
		// The admin's browser, signed out: the button, marked as setup, beside the password form.
		await b.post('/logout', {});
		const page = await (await b.get('/login')).text();
		expect(page).toContain('Sign in with SSO');
		expect(page).toContain('data-testid="sso-setup-button"');
		expect(page).toContain('signs nobody in yet');
		expect(page).toContain('id="password"');
		// Any other visitor: no button from a half-finished wizard…
		const stranger = await (await browser(app.url).get('/login')).text();
		expect(stranger).not.toContain('Sign in with SSO');
		expect(stranger).toContain('id="password"');
		// …unless asked for (the admin in another browser).
		const asked = await (await browser(app.url).get('/login?sso_setup=1')).text();
		expect(asked).toContain('Sign in with SSO');
		// Once SSO is on, everyone sees the full button.
		const a = await admin();
		await a.post('/settings/authentication?/linkManual', { subject: 'grace' });
		await a.post('/settings/authentication?/saveSso', { ssoEnabled: 'on' });
		const on = await (await browser(app.url).get('/login')).text();
		expect(on).toContain('Sign in with SSO');
		expect(on).not.toContain('sso-setup-button');
	});

	test('step 3 before step 1 is saved describes SSO as it will be: the SSO button, no password form', async () => {
		const b = await admin();
		const page = await (await b.get('/settings/authentication')).text();
		const after = page.slice(page.indexOf('data-testid="sso-after-switch"'));
		expect(after).toMatch(/Once SSO is on, the login page will offer\s*“Sign in with SSO”/);
		expect(after.slice(0, after.indexOf('</p>'))).not.toContain('the password form');
	});

	test('linking and unlinking end the other sessions, not the current one', async () => {
		const b = await admin();
		const other = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		await b.post('/settings/authentication?/linkManual', { subject: 'grace' });
		expect((await b.get('/')).status).toBe(200);
		expect((await other.get('/')).headers.get('location')).toBe('/login');
		const third = await admin();
		await b.post('/settings/authentication?/unlink', {});
		expect((await b.get('/')).status).toBe(200);
		expect((await third.get('/')).headers.get('location')).toBe('/login');
	});

	test('unlink switches SSO off, and brings local sign-in back if it was off', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		await b.post('/settings/authentication?/linkManual', { subject: 'grace' });
		await b.post('/settings/authentication?/saveSso', { ssoEnabled: 'on' });
		await app.sql`update "AppSettings" set "localAuthEnabled" = false`;
		const res = await b.post('/settings/authentication?/unlink', {});
		expect(res.status).toBe(200);
		expect(await res.text()).toContain('Local sign-in was turned back on');
		expect(await settingsRow()).toMatchObject({ ssoEnabled: false, localAuthEnabled: true });
		const [user] = await app.sql`select "ssoSubject" from "User"`;
		expect(user.ssoSubject).toBeNull();
	});

	test('unlink is refused when neither a local password nor a Plex link would remain', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		await b.post('/settings/authentication?/linkManual', { subject: 'grace' });
		await app.sql`update "User" set "passwordHash" = null`;
		const res = await b.post('/settings/authentication?/unlink', {});
		expect(res.status).toBe(409);
		expect(await res.text()).toContain('Unlinking would leave you with no way to sign in.');
		const [user] = await app.sql`select "ssoSubject" from "User"`;
		expect(user.ssoSubject).toBe('grace');
		// with a Plex link it is allowed
		await app.sql`update "User" set "plexId" = '42'`;
		expect((await b.post('/settings/authentication?/unlink', {})).status).toBe(200);
	});

	test('enabling SSO without a fallback method works but warns', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		await b.post('/settings/authentication?/linkManual', { subject: 'grace' });
		await app.sql`update "User" set "passwordHash" = null`;
		const res = await b.post('/settings/authentication?/saveSso', { ssoEnabled: 'on' });
		expect(res.status).toBe(200);
		expect(await res.text()).toContain('You have no local password and no Plex link');
	});

	test('changing the issuer while SSO is on switches SSO off rather than locking everyone out', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		await b.post('/settings/authentication?/linkManual', { subject: 'grace' });
		await b.post('/settings/authentication?/saveSso', { ssoEnabled: 'on' });
		const res = await b.post(
			'/settings/authentication?/saveConnection',
			connection({ oidcIssuer: 'https://other.example.com', oidcClientSecret: '' })
		);
		expect(await res.text()).toContain('SSO login was switched off');
		expect((await settingsRow()).ssoEnabled).toBe(false);
	});

	test('SSO_DISABLE_OVERRIDE: the amber banner, SSO refused, stored configuration untouched', async () => {
		const b = await admin();
		await b.post('/settings/authentication?/saveConnection', connection());
		await b.post('/settings/authentication?/linkManual', { subject: 'grace' });
		await b.post('/settings/authentication?/saveSso', { ssoEnabled: 'on' });
		const before = await settingsRow();
		const { startServer } = await import('../helpers/server.js');
		const overridden = await startServer({
			databaseUrl: app.databaseUrl,
			env: { SECRET_KEY, SSO_DISABLE_OVERRIDE: ' Yes ' }
		});
		try {
			const login = await (await browser(overridden.url).get('/login')).text();
			expect(login).not.toContain('Sign in with SSO');
			expect(login).toContain('id="password"');
			const start = await browser(overridden.url).get('/api/auth/sso/oidc/login');
			expect(start.headers.get('location')).toBe('/login?sso_error=sso_not_configured');
			const o = browser(overridden.url);
			expect((await o.signIn()).status).toBe(303);
			expect(await (await o.get('/settings/authentication')).text()).toContain(
				'SSO disabled by environment override'
			);
			expect(await settingsRow()).toEqual(before);
		} finally {
			await overridden.stop();
		}
	});
});
