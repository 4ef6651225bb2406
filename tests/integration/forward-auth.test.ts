import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { startServer } from '../helpers/server.js';

// The test plays the proxy: TRUSTED_PROXIES covers loopback, so the identity headers it sends are
// believed. (tests/e2e/forward-auth.spec.ts puts real nginx and Caddy in front instead.)
let app: App;
let direct: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
	app = await startApp({ TRUSTED_PROXIES: '127.0.0.1/32,::1/128' });
	// Same database, but no trusted proxy: what a client reaching the app directly would meet.
	direct = await startServer({ databaseUrl: app.databaseUrl, env: { TRUSTED_PROXIES: '' } });
});
afterAll(async () => {
	await direct?.stop();
	await app?.stop();
});
beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`
		update "AppSettings" set "ssoMode" = 'FORWARD_AUTH', "ssoEnabled" = true, "localAuthEnabled" = true,
			"forwardAuthUserHeader" = 'Remote-User', "forwardAuthEmailHeader" = 'Remote-Email',
			"forwardAuthNameHeader" = 'Remote-Name'
	`;
	const id = await insertAdmin(app.sql);
	await app.sql`
		update "User" set "ssoProvider" = 'forward-auth', "ssoIssuer" = 'forward-auth', "ssoSubject" = 'alice',
			"plexId" = '777', "plexUsername" = 'alice-plex'
		where id = ${id}
	`;
});

const as = (headers: Record<string, string>) => ({ headers });
async function sessions() {
	return (await app.sql`select count(*)::int as n from "Session"`)[0].n as number;
}

describe('forward-auth sign-in', () => {
	test('the linked user named by a trusted proxy is signed in; name and email decorate the session', async () => {
		const b = browser(app.url);
		const res = await b.get(
			'/api/auth/sso/forward',
			as({
				'remote-user': 'alice',
				'remote-name': 'Alice A.',
				'remote-email': 'alice@example.test'
			})
		);
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/');
		const home = await (await b.get('/', as({ 'remote-user': 'alice' }))).text();
		expect(home).toContain('Alice A.');
		expect(home).toContain('alice@example.test');
		expect(home).toContain('single sign-on (forward auth)');
		const [user] = await app.sql`select "plexId", "plexUsername" from "User"`;
		expect(user).toEqual({ plexId: '777', plexUsername: 'alice-plex' }); // the Plex link stays attached
	});

	test('forged headers sent straight to the app (untrusted peer) never sign in', async () => {
		const res = await browser(direct.url).get(
			'/api/auth/sso/forward',
			as({ 'remote-user': 'alice' })
		);
		expect(res.headers.get('location')).toBe('/login?sso_error=untrusted_proxy');
		expect(res.headers.get('set-cookie')).toBeNull();
		expect(await sessions()).toBe(0);
		const page = await (await browser(direct.url).get('/login?sso_error=untrusted_proxy')).text();
		expect(page).toContain('did not come through a trusted proxy');
	});

	test.each([
		['absent', {}],
		['empty', { 'remote-user': '' }],
		['blank', { 'remote-user': '   ' }],
		['comma-joined', { 'remote-user': 'alice, mallory' }],
		['with a control character', { 'remote-user': 'ali\tce' }],
		['longer than 256 characters', { 'remote-user': 'a'.repeat(257) }],
		['a look-alike name (Remote_User)', { remote_user: 'alice' }],
		['a look-alike name (Remote.User)', { 'remote.user': 'alice' }]
	])('a user header that is %s counts as missing', async (_label, headers) => {
		const res = await browser(app.url).get(
			'/api/auth/sso/forward',
			as(headers as Record<string, string>)
		);
		expect(res.headers.get('location')).toBe('/login?sso_error=missing_user_header');
		expect(await sessions()).toBe(0);
	});

	test('a repeated user header counts as missing', async () => {
		const headers = new Headers();
		headers.append('remote-user', 'alice');
		headers.append('remote-user', 'alice');
		const res = await fetch(`${app.url}/api/auth/sso/forward`, { headers, redirect: 'manual' });
		expect(res.headers.get('location')).toBe('/login?sso_error=missing_user_header');
	});

	test('an unknown user is not_linked, and the log names the value', async () => {
		const res = await browser(app.url).get(
			'/api/auth/sso/forward',
			as({ 'remote-user': 'mallory' })
		);
		expect(res.headers.get('location')).toBe('/login?sso_error=not_linked');
		await new Promise((r) => setTimeout(r, 50));
		expect(app.logs()).toContain('Forward-auth login rejected: no linked account for user=mallory');
		expect(await sessions()).toBe(0);
	});

	test('the configured header name is the one read (Authentik preset)', async () => {
		await app.sql`update "AppSettings" set "forwardAuthUserHeader" = 'X-authentik-username'`;
		const wrong = await browser(app.url).get(
			'/api/auth/sso/forward',
			as({ 'remote-user': 'alice' })
		);
		expect(wrong.headers.get('location')).toBe('/login?sso_error=missing_user_header');
		const right = await browser(app.url).get(
			'/api/auth/sso/forward',
			as({ 'x-authentik-username': 'alice' })
		);
		expect(right.headers.get('location')).toBe('/');
	});

	test('signing in through the proxy replaces an existing session', async () => {
		const b = browser(app.url);
		await app.sql`update "AppSettings" set "ssoEnabled" = false`; // the local form is hidden while SSO is on
		expect((await b.signIn()).status).toBe(303);
		await app.sql`update "AppSettings" set "ssoEnabled" = true`;
		const [before] = await app.sql`select id from "Session"`;
		await b.get('/api/auth/sso/forward', as({ 'remote-user': 'alice' }));
		const rows = await app.sql`select id, method from "Session"`;
		expect(rows).toHaveLength(1);
		expect(rows[0].id).not.toBe(before.id);
		expect(rows[0].method).toBe('forward-auth');
	});
});

describe('a forward-auth session stays bound to its subject', () => {
	async function signedIn() {
		const b = browser(app.url);
		expect((await b.get('/api/auth/sso/forward', as({ 'remote-user': 'alice' }))).status).toBe(303);
		return b;
	}

	test('requests with the same user keep it, and write nothing', async () => {
		const b = await signedIn();
		const [before] = await app.sql`select "expiresAt", "lastSeenAt" from "Session"`;
		for (let i = 0; i < 3; i++)
			expect((await b.get('/', as({ 'remote-user': 'alice' }))).status).toBe(200);
		const [after] = await app.sql`select "expiresAt", "lastSeenAt" from "Session"`;
		expect(after).toEqual(before);
	});

	test('a different user from the proxy ends it', async () => {
		const b = await signedIn();
		const res = await b.get('/', as({ 'remote-user': 'bob' }));
		expect(res.headers.get('location')).toBe('/login');
		expect(await sessions()).toBe(0);
	});

	test('no user from the proxy ends it', async () => {
		const b = await signedIn();
		expect((await b.get('/')).headers.get('location')).toBe('/login');
		expect(await sessions()).toBe(0);
	});

	test('the cookie used without the proxy (untrusted peer) ends it', async () => {
		const b = await signedIn();
		const cookie = `librariarr_session=${b.jar.get('librariarr_session')}`;
		const res = await fetch(`${direct.url}/`, {
			headers: { cookie, 'remote-user': 'alice' },
			redirect: 'manual'
		});
		expect(res.headers.get('location')).toBe('/login');
		expect(await sessions()).toBe(0);
	});

	test('local sessions are not affected by missing proxy headers', async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		expect((await b.get('/')).status).toBe(200);
	});
});

describe('settings for forward auth', () => {
	test('the panel shows the peer, whether it is trusted, and the TRUSTED_PROXIES line that would trust it', async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = browser(direct.url);
		expect((await b.signIn()).status).toBe(303);
		const html = await (await b.get('/settings/authentication')).text();
		expect(html).toContain('This request came from <code>127.0.0.1</code>');
		expect(html).toContain('not a trusted proxy');
		expect(html).toContain('TRUSTED_PROXIES=127.0.0.1/32');
	});

	test('a preset fills the header names without saving them', async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = browser(app.url);
		await b.signIn();
		const res = await b.post('/settings/authentication?/applyPreset&preset=oauth2proxy', {
			ssoMode: 'FORWARD_AUTH',
			oidcIssuer: '',
			oidcClientId: '',
			oidcClientSecret: '',
			oidcScopes: 'openid',
			oidcUsernameClaim: 'preferred_username',
			forwardAuthUserHeader: 'Remote-User',
			forwardAuthEmailHeader: 'Remote-Email',
			forwardAuthNameHeader: 'Remote-Name'
		});
		const html = await res.text();
		expect(html).toContain('value="X-Forwarded-Preferred-Username"');
		const [row] = await app.sql`select "forwardAuthUserHeader" from "AppSettings"`;
		expect(row.forwardAuthUserHeader).toBe('Remote-User');
	});

	test('"Link the identity of this request" links the value the trusted proxy sends', async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		await app.sql`update "User" set "ssoSubject" = null, "ssoIssuer" = null, "ssoProvider" = null`;
		const b = browser(app.url);
		await b.signIn();
		const res = await b.post(
			'/settings/authentication?/linkFromRequest',
			{},
			as({ 'remote-user': 'carol' })
		);
		expect(res.status).toBe(200);
		const [user] = await app.sql`select "ssoSubject", "ssoIssuer", "ssoProvider" from "User"`;
		expect(user).toEqual({
			ssoSubject: 'carol',
			ssoIssuer: 'forward-auth',
			ssoProvider: 'forward-auth'
		});
		// through an untrusted peer it is refused
		const d = browser(direct.url);
		await d.signIn();
		const refused = await d.post(
			'/settings/authentication?/linkFromRequest',
			{},
			as({ 'remote-user': 'mallory' })
		);
		expect(refused.status).toBe(409);
	});
});

describe('switching forward-auth SSO on needs proof that it works', () => {
	// SSO off, forward-auth mode, alice linked (beforeEach), signed in with the password.
	async function signedIn(url: string) {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = browser(url);
		expect((await b.signIn()).status).toBe(303);
		return b;
	}
	async function ssoEnabled() {
		return (await app.sql`select "ssoEnabled" from "AppSettings"`)[0].ssoEnabled as boolean;
	}
	const enable = { ssoEnabled: 'on' };

	test.each([
		[
			'straight to the app (TRUSTED_PROXIES empty), even with the right header',
			'direct',
			{ 'remote-user': 'alice' },
			'this request did not come through a trusted proxy (TRUSTED_PROXIES)'
		],
		[
			'through the trusted proxy without a user header',
			'proxy',
			{},
			'Your proxy did not send a usable Remote-User header with this request'
		],
		[
			'through the trusted proxy naming another user',
			'proxy',
			{ 'remote-user': 'bob' },
			'Your proxy names “bob” in this request, but your account is linked to “alice”'
		]
	])('refused when the request comes %s', async (_label, via, headers, message) => {
		const b = await signedIn(via === 'direct' ? direct.url : app.url);
		const res = await b.post('/settings/authentication?/saveSso', enable, as(headers));
		expect(res.status).toBe(409);
		expect(await res.text()).toContain(message);
		expect(await ssoEnabled()).toBe(false);
	});

	test('the refusal reaches an enhanced form (JavaScript on) as a 409 failure with the message', async () => {
		const b = await signedIn(direct.url);
		const res = await b.post('/settings/authentication?/saveSso', enable, {
			headers: { 'x-sveltekit-action': 'true', accept: 'application/json' }
		});
		const body = await res.json();
		expect(body.type).toBe('failure');
		expect(body.status).toBe(409);
		expect(body.data).toContain('did not come through a trusted proxy');
		expect(await ssoEnabled()).toBe(false);
	});

	test('allowed through the trusted proxy naming the linked user; then the proxy signs that user in', async () => {
		const b = await signedIn(app.url);
		const res = await b.post(
			'/settings/authentication?/saveSso',
			enable,
			as({ 'remote-user': 'alice' })
		);
		expect(res.status).toBe(200);
		expect(await res.text()).toContain('SSO login is on.');
		expect(await ssoEnabled()).toBe(true);
		const signIn = await browser(app.url).get(
			'/api/auth/sso/forward',
			as({ 'remote-user': 'alice' })
		);
		expect(signIn.headers.get('location')).toBe('/');
	});

	test('switching it off, or saving it on again, needs no proxy', async () => {
		const b = await signedIn(app.url);
		await app.sql`update "AppSettings" set "ssoEnabled" = true`;
		const again = await b.post('/settings/authentication?/saveSso', enable);
		expect(again.status).toBe(200);
		expect(await ssoEnabled()).toBe(true);
		// The password session is not a forward-auth one, so it survives the missing header.
		const off = await b.post('/settings/authentication?/saveSso', {});
		expect(off.status).toBe(200);
		expect(await ssoEnabled()).toBe(false);
	});
});

test('"Link the identity of this request" is refused in OIDC mode and leaves a working OIDC link alone', async () => {
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = 'https://id.example.com',
			"oidcClientId" = 'lib', "ssoEnabled" = false
	`;
	await app.sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = 'https://id.example.com', "ssoSubject" = 'oidc-alice'
	`;
	const b = browser(app.url);
	expect((await b.signIn()).status).toBe(303);
	await app.sql`update "AppSettings" set "ssoEnabled" = true`;
	const res = await b.post(
		'/settings/authentication?/linkFromRequest',
		{},
		as({ 'remote-user': 'alice' })
	);
	expect(res.status).toBe(409);
	expect(await res.text()).toContain('Save a Forward Auth configuration in step 1 first.');
	const [user] = await app.sql`select "ssoProvider", "ssoIssuer", "ssoSubject" from "User"`;
	expect(user).toEqual({
		ssoProvider: 'oidc',
		ssoIssuer: 'https://id.example.com',
		ssoSubject: 'oidc-alice'
	});
});

describe('the proxy sign-out URL', () => {
	const signedInThroughProxy = async () => {
		const b = browser(app.url);
		const res = await b.get('/api/auth/sso/forward', as({ 'remote-user': 'alice' }));
		expect(res.status).toBe(303);
		return b;
	};
	const stepOne = {
		ssoMode: 'FORWARD_AUTH',
		oidcIssuer: '',
		oidcClientId: '',
		oidcClientSecret: '',
		oidcScopes: 'openid',
		oidcUsernameClaim: 'preferred_username',
		forwardAuthUserHeader: 'Remote-User',
		forwardAuthEmailHeader: 'Remote-Email',
		forwardAuthNameHeader: 'Remote-Name'
	};

	test("signing out of a forward-auth session ends the app's session, then sends the browser to the proxy's sign-out", async () => {
		await app.sql`update "AppSettings" set "forwardAuthLogoutUrl" = '/oauth2/sign_out?rd=x'`;
		const b = await signedInThroughProxy();
		const res = await b.post('/logout', {}, as({ 'remote-user': 'alice' }));
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe(`${app.url}/oauth2/sign_out?rd=x`);
		expect(await sessions()).toBe(0);
		const [row] = await app.sql`
			select detail from "AuditEvent" where event = 'logout' order by id desc limit 1
		`;
		expect(row.detail).toEqual({ atProxy: true });
	});

	test('an absolute address is used as it is; without one the login page says the proxy was not asked', async () => {
		await app.sql`update "AppSettings" set "forwardAuthLogoutUrl" = 'https://auth.example.test/logout?rd=y'`;
		let b = await signedInThroughProxy();
		let res = await b.post('/logout', {}, as({ 'remote-user': 'alice' }));
		expect(res.headers.get('location')).toBe('https://auth.example.test/logout?rd=y');

		await app.sql`update "AppSettings" set "forwardAuthLogoutUrl" = null`;
		b = await signedInThroughProxy();
		res = await b.post('/logout', {}, as({ 'remote-user': 'alice' }));
		expect(res.headers.get('location')).toBe('/login?signed_out=1&proxy=0');
		const page = await (await browser(app.url).get('/login?signed_out=1&proxy=0')).text();
		expect(page).toContain('but not of your sign-in proxy');
		const asked = await (await browser(app.url).get('/login?signed_out=1&proxy=1')).text();
		expect(asked).toContain('your sign-in proxy was asked to end its session too');
	});

	test('a password session signs out on the app only, whatever is saved', async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false, "forwardAuthLogoutUrl" = '/oauth2/sign_out'`;
		const b = browser(app.url);
		await b.signIn();
		const res = await b.post('/logout', {});
		expect(res.headers.get('location')).toBe('/login?signed_out=1');
	});

	test('a preset fills the sign-out address with the return address; saving keeps it', async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = browser(app.url);
		await b.signIn();
		const filled = await (
			await b.post('/settings/authentication?/applyPreset&preset=oauth2proxy', stepOne)
		).text();
		const back = encodeURIComponent(`${app.url}/login?signed_out=1&proxy=1`);
		expect(filled).toContain(`value="/oauth2/sign_out?rd=${back.replaceAll('&', '&amp;')}"`);
		const saved = await b.post('/settings/authentication?/saveConnection', {
			...stepOne,
			forwardAuthLogoutUrl: `/oauth2/sign_out?rd=${back}`
		});
		expect(saved.status).toBe(200);
		const [row] = await app.sql`select "forwardAuthLogoutUrl" from "AppSettings"`;
		expect(row.forwardAuthLogoutUrl).toBe(`/oauth2/sign_out?rd=${back}`);
	});

	test.each([
		['//evil.example/logout', 'a host left to the browser'],
		['javascript:alert(1)', 'a script'],
		['https://user:pw@auth.example/logout', 'credentials in the address'],
		['logout', 'a relative path'],
		[`https://auth.example/${'a'.repeat(2100)}`, 'too long']
	])('%s (%s) is refused with a message and nothing saved', async (value) => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false, "forwardAuthLogoutUrl" = null`;
		const b = browser(app.url);
		await b.signIn();
		const res = await b.post('/settings/authentication?/saveConnection', {
			...stepOne,
			forwardAuthLogoutUrl: value
		});
		expect(res.status).toBe(400);
		expect(await res.text()).toMatch(/sign-out URL/);
		const [row] = await app.sql`select "forwardAuthLogoutUrl" from "AppSettings"`;
		expect(row.forwardAuthLogoutUrl).toBeNull();
	});

	test('an unknown or inherited preset name is refused, never a 500', async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = browser(app.url);
		await b.signIn();
		for (const name of ['nope', '__proto__', 'constructor', 'toString']) {
			const res = await b.post(`/settings/authentication?/applyPreset&preset=${name}`, stepOne);
			expect(res.status, name).toBe(400);
		}
	});
});
