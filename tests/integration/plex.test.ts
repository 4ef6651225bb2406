import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { open, loadKey } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { startFakePlex } from '../helpers/fake-plex.js';
import { expireFlowCookie } from '../helpers/flow-cookie';
import { startServer } from '../helpers/server.js';

const SECRET_KEY = 'plex-test-key';
let plex: Awaited<ReturnType<typeof startFakePlex>>;
let app: App;
let env: Record<string, string>;
beforeAll(async () => {
	plex = await startFakePlex();
	env = {
		SECRET_KEY,
		PLEX_API_URL: plex.url,
		PLEX_AUTH_URL: plex.authUrl,
		PLEX_TIMEOUT_MS: '1000'
	};
	app = await startApp(env);
});
afterAll(async () => {
	await app?.stop();
	await plex?.stop();
});
beforeEach(async () => {
	plex.state.mode = 'ok';
	plex.state.slowMs = 3000;
	await app.sql`delete from "User"`;
	await app.sql`update "AppSettings" set "plexLoginEnabled" = false, "localAuthEnabled" = true, "ssoEnabled" = false`;
});

type B = ReturnType<typeof browser>;

/** Starts a Plex flow; returns the PIN code and the forwardUrl Plex would send the browser to. */
async function start(b: B, purpose: 'login' | 'link' | 'setup') {
	const res = await b.post('/api/auth/plex/start', { purpose });
	expect(res.status).toBe(303);
	const location = res.headers.get('location')!;
	expect(location.startsWith(plex.authUrl + '#?')).toBe(true);
	const params = plex.parseAuthLocation(location);
	return { code: params.get('code')!, forwardUrl: params.get('forwardUrl')!, params };
}

async function finish(b: B, forwardUrl: string) {
	return b.get(new URL(forwardUrl).pathname + new URL(forwardUrl).search);
}

async function linkedAdmin(plexUser: 'alice' | 'bob' = 'alice', { password = true } = {}) {
	const id = await insertAdmin(app.sql);
	await app.sql`update "User" set "plexId" = ${plex === undefined ? '' : String(plexUser === 'alice' ? 1001 : 1002)}, "plexUsername" = ${plexUser} where id = ${id}`;
	if (!password) await app.sql`update "User" set "passwordHash" = null where id = ${id}`;
	await app.sql`update "AppSettings" set "plexLoginEnabled" = true`;
	return id;
}

async function sessions() {
	return (await app.sql`select count(*)::int as n from "Session"`)[0].n as number;
}

describe('Plex PIN flow', () => {
	test('first run: setup through Plex makes the Plex account the admin, with local login off', async () => {
		const b = browser(app.url);
		const setupPage = await (await b.get('/setup')).text();
		expect(setupPage).toContain('Continue with Plex');
		const { code, forwardUrl, params } = await start(b, 'setup');
		expect(params.get('clientID')).toMatch(/^[0-9a-f-]{36}$/);
		expect(params.get('context[device][product]')).toBe('Librariarr');
		expect(forwardUrl).toMatch(new RegExp(`^${app.url}/api/auth/plex/callback\\?tx=[a-z2-7]+$`));
		plex.approve(code, 'alice');
		const done = await finish(b, forwardUrl);
		expect(done.status).toBe(303);
		expect(done.headers.get('location')).toBe('/');
		const [user] =
			await app.sql`select username, "plexId", "plexUsername", "plexToken", "passwordHash" from "User"`;
		expect(user).toMatchObject({
			username: 'alice',
			plexId: '1001',
			plexUsername: 'alice',
			passwordHash: null
		});
		expect(user.plexToken).not.toContain('token-alice');
		expect(open(user.plexToken, loadKey({ SECRET_KEY }))).toMatch(/^token-alice-/);
		const [settings] =
			await app.sql`select "localAuthEnabled", "plexLoginEnabled" from "AppSettings"`;
		expect(settings).toEqual({ localAuthEnabled: false, plexLoginEnabled: true });
		expect(await (await b.get('/')).text()).toContain('Plex account');
	});

	test('plex.tv is asked with our product name, version and a client identifier kept in AppSettings', async () => {
		plex.requests.length = 0;
		await start(browser(app.url), 'setup');
		await start(browser(app.url), 'setup');
		const pinCalls = plex.requests.filter(
			(r) => r.method === 'POST' && r.path === '/api/v2/pins?strong=true'
		);
		expect(pinCalls).toHaveLength(2);
		const [settings] = await app.sql`select "plexClientIdentifier" from "AppSettings"`;
		for (const call of pinCalls) {
			expect(call.headers['x-plex-product']).toBe('Librariarr');
			expect(call.headers['x-plex-version']).toMatch(/^\d+\.\d+\.\d+$/);
			expect(call.headers['x-plex-client-identifier']).toBe(settings.plexClientIdentifier);
		}
	});

	test('a linked Plex account signs in when Plex login is allowed', async () => {
		await linkedAdmin('alice');
		const b = browser(app.url);
		expect(await (await b.get('/login')).text()).toContain('Sign in with Plex');
		const { code, forwardUrl } = await start(b, 'login');
		plex.approve(code, 'alice');
		const res = await finish(b, forwardUrl);
		expect(res.headers.get('location')).toBe('/');
		const [session] = await app.sql`select method from "Session"`;
		expect(session.method).toBe('plex');
	});

	test('an unlinked Plex account gets a banner and no session', async () => {
		await linkedAdmin('alice');
		const b = browser(app.url);
		const { code, forwardUrl } = await start(b, 'login');
		plex.approve(code, 'bob');
		const res = await finish(b, forwardUrl);
		expect(res.headers.get('location')).toBe('/login?plex_error=plex_not_linked');
		expect(await (await b.get('/login?plex_error=plex_not_linked')).text()).toContain(
			'This Plex account is not linked to a Librariarr user.'
		);
		expect(await sessions()).toBe(0);
	});

	test('with Plex login off the button is gone and the flow is refused; the override brings it back', async () => {
		await linkedAdmin('alice');
		await app.sql`update "AppSettings" set "plexLoginEnabled" = false`;
		const b = browser(app.url);
		expect(await (await b.get('/login')).text()).not.toContain('Sign in with Plex');
		const refused = await b.post('/api/auth/plex/start', { purpose: 'login' });
		expect(refused.headers.get('location')).toBe('/login?plex_error=plex_disabled');

		const overridden = await startServer({
			databaseUrl: app.databaseUrl,
			env: { ...env, SSO_DISABLE_OVERRIDE: 'TRUE' }
		});
		try {
			const o = browser(overridden.url);
			expect(await (await o.get('/login')).text()).toContain('Sign in with Plex');
			const res = await o.post('/api/auth/plex/start', { purpose: 'login' });
			const params = plex.parseAuthLocation(res.headers.get('location')!);
			plex.approve(params.get('code')!, 'alice');
			const fwd = new URL(params.get('forwardUrl')!);
			expect((await o.get(fwd.pathname + fwd.search)).headers.get('location')).toBe('/');
		} finally {
			await overridden.stop();
		}
	});

	test('a PIN that was never approved is not a sign-in, whatever token the browser presents', async () => {
		await linkedAdmin('alice');
		const b = browser(app.url);
		const { forwardUrl } = await start(b, 'login');
		const stolen = plex.approve((await start(browser(app.url), 'login')).code, 'alice'); // another PIN's real token
		const url = new URL(forwardUrl);
		const res = await b.get(`${url.pathname}${url.search}&authToken=${stolen}&token=${stolen}`, {
			headers: { 'x-plex-token': stolen }
		});
		expect(res.headers.get('location')).toBe('/login?plex_error=plex_denied');
		expect(await sessions()).toBe(0);
	});

	test('a PIN from another browser, a reused PIN and an expired transaction are refused', async () => {
		await linkedAdmin('alice');
		const a = browser(app.url);
		const first = await start(a, 'login');
		plex.approve(first.code, 'alice');
		const thief = browser(app.url);
		const stolen = await finish(thief, first.forwardUrl);
		expect(stolen.headers.get('location')).toBe('/login?plex_error=plex_expired');
		expect(await sessions()).toBe(0);
		// the rightful browser can still finish, once: a replay with its binding cookie is refused
		const replay = browser(app.url);
		for (const [k, v] of a.jar) replay.jar.set(k, v);
		expect((await finish(a, first.forwardUrl)).headers.get('location')).toBe('/');
		expect((await finish(replay, first.forwardUrl)).headers.get('location')).toBe(
			'/login?plex_error=plex_expired'
		);

		const late = browser(app.url);
		const second = await start(late, 'login');
		plex.approve(second.code, 'alice');
		expireFlowCookie(late.jar, 'plex', SECRET_KEY);
		expect((await finish(late, second.forwardUrl)).headers.get('location')).toBe(
			'/login?plex_error=plex_expired'
		);
		expect(await sessions()).toBe(1);
	});

	test.each(['error', 'slow', 'malformed'] as const)(
		'plex.tv answering %s gives a banner, never a hang or a session',
		async (mode) => {
			await linkedAdmin('alice');
			const b = browser(app.url);
			const { code, forwardUrl } = await start(b, 'login');
			plex.approve(code, 'alice');
			plex.state.mode = mode;
			// 'slow' holds its answers longer than this test may run: only the app's own deadline
			// (PLEX_TIMEOUT_MS) ends the wait in time. No clock bound, so a busy machine cannot fail it.
			plex.state.slowMs = 60_000;
			const res = await finish(b, forwardUrl);
			expect(res.headers.get('location')).toBe('/login?plex_error=plex_unavailable');
			expect(await sessions()).toBe(0);
			// and starting a flow while plex.tv is down also ends on a banner
			const refused = await browser(app.url).post('/api/auth/plex/start', { purpose: 'login' });
			expect(refused.headers.get('location')).toBe('/login?plex_error=plex_unavailable');
			expect(
				await (await browser(app.url).get('/login?plex_error=plex_unavailable')).text()
			).toContain('plex.tv did not answer properly in time');
		}
	);
});

describe('Plex Connection settings', () => {
	async function signedInAdmin() {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		return b;
	}

	test('Link Plex account from settings, and the linked username is shown', async () => {
		await insertAdmin(app.sql);
		const b = await signedInAdmin();
		const { code, forwardUrl } = await start(b, 'link');
		plex.approve(code, 'bob');
		const res = await finish(b, forwardUrl);
		expect(res.headers.get('location')).toBe('/settings/authentication?plex_linked=1#plex');
		const page = await (await b.get('/settings/authentication?plex_linked=1')).text();
		expect(page).toContain('Plex account linked.');
		expect(page).toMatch(/data-testid="plex-username"[^>]*>bob</);
		const [user] = await app.sql`select "plexId" from "User"`;
		expect(user.plexId).toBe('1002');
	});

	test('Allow Plex Login cannot be switched off, nor Plex unlinked, when it is the last way in', async () => {
		await linkedAdmin('alice', { password: false });
		const b = browser(app.url);
		const { code, forwardUrl } = await start(b, 'login');
		plex.approve(code, 'alice');
		await finish(b, forwardUrl);
		const off = await b.post('/settings/authentication?/togglePlex', { enabled: 'false' });
		expect(off.status).toBe(409);
		expect(await off.text()).toContain('Plex is your only way in');
		const unlink = await b.post('/settings/authentication?/unlinkPlex', {});
		expect(unlink.status).toBe(409);
		const [settings] = await app.sql`select "plexLoginEnabled" from "AppSettings"`;
		expect(settings.plexLoginEnabled).toBe(true);
		const [user] = await app.sql`select "plexId" from "User"`;
		expect(user.plexId).toBe('1001');
	});

	test('with a local password, Plex can be switched off and unlinked; local login cannot then be switched off', async () => {
		await linkedAdmin('alice');
		const b = await signedInAdmin();
		expect(
			(await b.post('/settings/authentication?/togglePlex', { enabled: 'false' })).status
		).toBe(200);
		expect((await b.post('/settings/authentication?/togglePlex', { enabled: 'true' })).status).toBe(
			200
		);
		// with Plex on, local login may go off…
		expect(
			(await b.post('/settings/authentication?/toggleLocal', { enabled: 'false' })).status
		).toBe(200);
		// …but then Plex is the last way in
		expect((await b.post('/settings/authentication?/unlinkPlex', {})).status).toBe(409);
		expect(
			(await b.post('/settings/authentication?/toggleLocal', { enabled: 'true' })).status
		).toBe(200);
		expect((await b.post('/settings/authentication?/unlinkPlex', {})).status).toBe(200);
		const [settings] = await app.sql`select "plexLoginEnabled" from "AppSettings"`;
		expect(settings.plexLoginEnabled).toBe(false);
	});

	test('the Plex token stays on the user through an SSO sign-in', async () => {
		await linkedAdmin('alice');
		const b = await signedInAdmin();
		const { code, forwardUrl } = await start(b, 'link');
		plex.approve(code, 'alice');
		await finish(b, forwardUrl);
		const [before] = await app.sql`select "plexToken" from "User"`;
		expect(before.plexToken).not.toBeNull();
		await app.sql`update "User" set "ssoProvider" = 'forward-auth', "ssoIssuer" = 'forward-auth', "ssoSubject" = 'alice'`;
		await app.sql`update "AppSettings" set "ssoMode" = 'FORWARD_AUTH', "ssoEnabled" = true`;
		const fwd = await startServer({
			databaseUrl: app.databaseUrl,
			env: { ...env, TRUSTED_PROXIES: '127.0.0.1/32' }
		});
		try {
			const res = await browser(fwd.url).get('/api/auth/sso/forward', {
				headers: { 'remote-user': 'alice' }
			});
			expect(res.headers.get('location')).toBe('/');
		} finally {
			await fwd.stop();
		}
		const [after] = await app.sql`select "plexToken", "plexId" from "User"`;
		expect(after).toEqual({ plexToken: before.plexToken, plexId: '1001' });
	});
});
