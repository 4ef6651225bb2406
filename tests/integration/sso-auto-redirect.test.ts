// "Send visitors straight to the identity provider": GET /login answers with a redirect to the SSO
// start, except after sign-out, with an SSO error in the URL, with ?manual=1, while
// SSO_DISABLE_OVERRIDE is on, and within 30 seconds of the last time this browser was sent there.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, freshDatabase, insertAdmin, startApp, type App } from '../helpers/app';

const ISSUER = 'http://127.0.0.1:9/unused'; // never contacted: only the redirect is checked
const START = '/api/auth/sso/oidc/login';

async function configure(sql: App['sql'], autoRedirect: boolean, enabled = true) {
	await sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER}, "oidcClientId" = 'c',
			"ssoEnabled" = ${enabled}, "ssoAutoRedirect" = ${autoRedirect}
		where id = 1
	`;
}

describe('straight to SSO', () => {
	let app: App;
	beforeAll(async () => {
		app = await startApp({ SECRET_KEY: 'auto-redirect-test-key' });
		const id = await insertAdmin(app.sql);
		await app.sql`
			update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${ISSUER}, "ssoSubject" = 's'
			where id = ${id}
		`;
	});
	afterAll(() => app?.stop());
	beforeEach(() => configure(app.sql, true));

	test('GET /login sends the visitor to the SSO start, keeping returnTo', async () => {
		const res = await browser(app.url).get('/login?returnTo=%2Fsettings%2Fbackups');
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe(`${START}?returnTo=%2Fsettings%2Fbackups`);
		const plain = await browser(app.url).get('/login');
		expect(plain.headers.get('location')).toBe(START);
	});

	test('a signed-out visitor of / ends at the SSO start through /login', async () => {
		const b = browser(app.url);
		const first = await b.get('/');
		expect(first.headers.get('location')).toBe('/login');
		expect((await b.get('/login')).headers.get('location')).toBe(START);
	});

	for (const query of ['manual=1', 'signed_out=1', 'sso_error=token_exchange_failed']) {
		test(`/login?${query} shows the login page`, async () => {
			const res = await browser(app.url).get(`/login?${query}`);
			expect(res.status).toBe(200);
			expect(await res.text()).toContain('Sign in with SSO');
		});
	}

	test('the same browser is not sent again within 30 seconds (no redirect loop)', async () => {
		const b = browser(app.url);
		expect((await b.get('/login')).status).toBe(303);
		const cookie = (await b.get('/login')).status;
		expect(cookie).toBe(200);
		// Another browser is still sent.
		expect((await browser(app.url).get('/login')).status).toBe(303);
	});

	test('the cookie that stops the loop lives 30 seconds, on /login only', async () => {
		const res = await browser(app.url).get('/login');
		const line = res.headers.getSetCookie().find((c) => c.startsWith('librariarr_sso_auto='));
		expect(line).toMatch(/Max-Age=30/i);
		expect(line).toMatch(/Path=\/login/i);
		expect(line).toMatch(/HttpOnly/i);
	});

	test('with the setting off, or SSO off, /login shows itself', async () => {
		await configure(app.sql, false);
		expect((await browser(app.url).get('/login')).status).toBe(200);
		await configure(app.sql, true, false);
		expect((await browser(app.url).get('/login')).status).toBe(200);
	});
});

test('while SSO_DISABLE_OVERRIDE is on, /login never redirects', async () => {
	const db = await freshDatabase();
	await insertAdmin(db.sql);
	await configure(db.sql, true);
	const app = await startApp(
		{ SECRET_KEY: 'auto-redirect-test-key', SSO_DISABLE_OVERRIDE: 'true' },
		db
	);
	try {
		const res = await browser(app.url).get('/login');
		expect(res.status).toBe(200);
	} finally {
		await app.stop();
	}
});
