// Client authentication that negotiates (issue 24), against oidc-provider with a layer in front
// of its token endpoint that judges some clients the way real providers do (tests/helpers/idp.js):
// one compares the HTTP Basic secret without form-decoding it (Glewlwyd), one takes the secret
// only in the form body and refuses Basic with 403 unauthorized_client. With Client
// Authentication on Automatic both sign in, and the way that worked is remembered; a wrong
// secret is refused with words that say so. Then "Check client credentials" for each outcome.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App, signedIn } from '../helpers/app';
import { QUIRK_CLIENTS, RAW_BASIC_SECRET, startIdp, USERS } from '../helpers/idp.js';
import { throughProvider } from '../helpers/idp-login';

const SECRET_KEY = 'oidc-client-auth-key';
const SESSION_COOKIE = 'librariarr_session';
const ORIGIN = 'http://librariarr.test';
const ADA = USERS.uuid;
const SETTINGS = '/settings/authentication';

let app: App;
let idp: Awaited<ReturnType<typeof startIdp>>;
let adminId: number;

beforeAll(async () => {
	idp = await startIdp({ redirectUris: [`${ORIGIN}/api/auth/sso/oidc/callback`] });
	app = await startApp({ SECRET_KEY, ORIGIN });
	adminId = await insertAdmin(app.sql);
	await app.sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${idp.issuer}, "ssoSubject" = ${ADA.sub}
		where id = ${adminId}
	`;
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
});
beforeEach(async () => {
	await app.sql`delete from "Session"`;
	idp.tokenRequests.length = 0;
});

async function useClient(clientId: string, secret = RAW_BASIC_SECRET, method = 'auto') {
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
			"oidcClientId" = ${clientId}, "oidcClientSecret" = ${seal(secret, loadKey({ SECRET_KEY }))},
			"oidcClientAuthMethod" = ${method}, "ssoEnabled" = true, "localAuthEnabled" = true,
			"oidcClientAuthLearnt" = null, "previousSsoConfig" = null,
			"ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
}

async function learnt() {
	const [row] = await app.sql`
		select "oidcClientAuthLearnt", "oidcClientAuthLearntIssuer", "oidcClientAuthLearntClientId"
		from "AppSettings"
	`;
	return row;
}

async function signIn() {
	const b = browser(app.url);
	const start = await b.get('/api/auth/sso/oidc/login');
	expect(start.status).toBe(303);
	const back = new URL(await throughProvider(idp.issuer, start.headers.get('location')!, ADA.sub));
	expect(back.searchParams.get('code')).toBeTruthy();
	const res = await b.get(back.pathname + back.search);
	return { res, b };
}

async function expectSignedIn({ res, b }: Awaited<ReturnType<typeof signIn>>) {
	expect(res.headers.get('location')).toBe('/');
	expect(b.jar.has(SESSION_COOKIE)).toBe(true);
	const rows = await app.sql`select "userId" from "Session"`;
	expect(rows.map((r) => r.userId)).toEqual([adminId]);
}

/** What reached the provider's token endpoint: Basic or not, and its status. */
const attempts = () => idp.tokenRequests.map((r) => `${r.basic ? 'basic' : 'body'} ${r.status}`);

describe('sign-in negotiates client authentication (method on Automatic)', () => {
	test('a provider comparing the Basic secret without decoding: refused encoded, signed in raw, remembered', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic);
		await expectSignedIn(await signIn());
		expect(attempts()).toEqual(['basic 401', 'basic 200']);
		expect(await learnt()).toEqual({
			oidcClientAuthLearnt: 'basic-raw',
			oidcClientAuthLearntIssuer: idp.issuer,
			oidcClientAuthLearntClientId: QUIRK_CLIENTS.rawBasic
		});

		// Next time the remembered way goes first: one token request.
		idp.tokenRequests.length = 0;
		await app.sql`delete from "Session"`;
		await expectSignedIn(await signIn());
		expect(attempts()).toEqual(['basic 200']);

		// Step 1 says what was adapted.
		const page = await (await (await admin()).get(SETTINGS)).text();
		expect(page).toContain('Your provider compares the client secret without decoding it');
	});

	test('a provider that takes the secret only in the form body (403 unauthorized_client to Basic) signs in', async () => {
		await useClient(QUIRK_CLIENTS.postOnly);
		await expectSignedIn(await signIn());
		// Basic form-encoded, Basic as is (the secret has characters encoding changes), body.
		expect(attempts()).toEqual(['basic 403', 'basic 403', 'body 200']);
		expect((await learnt()).oidcClientAuthLearnt).toBe('post');
	});

	test('a wrong secret is refused after the three ways, in words that say the client was refused', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic, 'not+the/secret=');
		const { res, b } = await signIn();
		expect(res.headers.get('location')).toBe('/login?sso_error=token_exchange_failed');
		expect(b.jar.has(SESSION_COOKIE)).toBe(false);
		// The login page's banner keeps its words and adds where the provider's words are found.
		const page = await (await b.get('/login?sso_error=token_exchange_failed')).text();
		expect(page).toContain('Failed to verify your identity with the SSO provider');
		expect(page).toContain('Download diagnostics');
		// oidc-provider lists client_secret_post too, so the body is the third try (this client
		// takes Basic only, but a wrong secret is wrong every way).
		expect(attempts()).toEqual(['basic 401', 'basic 401', 'body 401']);
		// The log names the step, the status, the provider's own words and what to check.
		expect(app.logs()).toContain(
			`Token exchange at ${idp.issuer}/token failed: HTTP 401: invalid_client (“client_secret_basic only”); the provider refused the client with every variant tried (basic, basic-raw, post). The provider refused this client ID and secret every way it was sent: check them at the provider`
		);
		expect((await learnt()).oidcClientAuthLearnt).toBeNull();
	});

	test('a method chosen by hand is kept: HTTP Basic still tries the raw encoding, but never the body', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic, RAW_BASIC_SECRET, 'client_secret_basic');
		await expectSignedIn(await signIn());
		expect(attempts()).toEqual(['basic 401', 'basic 200']);

		idp.tokenRequests.length = 0;
		await app.sql`delete from "Session"`;
		await useClient(QUIRK_CLIENTS.postOnly, RAW_BASIC_SECRET, 'client_secret_basic');
		const { res } = await signIn();
		expect(res.headers.get('location')).toBe('/login?sso_error=token_exchange_failed');
		expect(attempts()).toEqual(['basic 403', 'basic 403']);
	});

	test('a refusal that is not about the client is not retried', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic);
		const b = browser(app.url);
		const start = await b.get('/api/auth/sso/oidc/login');
		const back = new URL(
			await throughProvider(idp.issuer, start.headers.get('location')!, ADA.sub)
		);
		back.searchParams.set('code', 'a-code-nobody-issued');
		const res = await b.get(back.pathname + back.search);
		expect(res.headers.get('location')).toBe('/login?sso_error=token_exchange_failed');
		// The encoded Basic is refused (client), the raw one reaches the code check (invalid_grant).
		expect(attempts()).toEqual(['basic 401', 'basic 400']);
		expect(app.logs()).toContain(
			`HTTP 400: invalid_grant (“grant request is invalid”) (sent as basic-raw, after the provider refused the client as basic). The provider refused the authorization code: it expired or was used already (try again), or the redirect URI registered at the provider is not exactly ${ORIGIN}/api/auth/sso/oidc/callback.`
		);
	});
});

/** A browser signed in as the admin with the password (posts carry the public origin). SSO is switched off for it. */
async function admin() {
	// With SSO on, the login page offers no password form; SSO stays off for these tests.
	await app.sql`update "AppSettings" set "ssoEnabled" = false`;
	return signedIn(app.url, { origin: ORIGIN });
}

/** Step 1's form as a browser sends it. */
const form = (over: Record<string, string> = {}) => ({
	ssoMode: 'OIDC',
	oidcIssuer: idp.issuer,
	oidcClientId: QUIRK_CLIENTS.rawBasic,
	oidcClientSecret: '',
	oidcClientAuthMethod: 'auto',
	oidcScopes: 'openid profile email',
	oidcUsernameClaim: 'preferred_username',
	forwardAuthUserHeader: 'Remote-User',
	forwardAuthEmailHeader: 'Remote-Email',
	forwardAuthNameHeader: 'Remote-Name',
	...over
});

describe('what was learnt is forgotten when the connection changes', () => {
	test('saving a new secret, client ID or method, or reverting, forgets it; other saves keep it', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic);
		const b = await admin();
		const remember = () =>
			app.sql`update "AppSettings" set "oidcClientAuthLearnt" = 'basic-raw',
				"oidcClientAuthLearntIssuer" = "oidcIssuer", "oidcClientAuthLearntClientId" = "oidcClientId"`;
		const save = (over: Record<string, string>) =>
			b.post(`${SETTINGS}?/saveConnection`, form(over), { origin: ORIGIN });

		await remember();
		expect((await save({ oidcScopes: 'openid email' })).status).toBe(200);
		expect((await learnt()).oidcClientAuthLearnt).toBe('basic-raw');

		for (const over of <Record<string, string>[]>[
			{ oidcClientSecret: RAW_BASIC_SECRET },
			{ oidcClientAuthMethod: 'client_secret_basic' },
			{ oidcClientId: QUIRK_CLIENTS.postOnly }
		]) {
			await remember();
			expect((await save(over)).status).toBe(200);
			expect((await learnt()).oidcClientAuthLearnt, JSON.stringify(over)).toBeNull();
		}
		await remember();
		expect((await b.post(`${SETTINGS}?/revert`, {}, { origin: ORIGIN })).status).toBe(200);
		expect((await learnt()).oidcClientAuthLearnt).toBeNull();
	});
});

describe('Check client credentials', () => {
	const check = (b: ReturnType<typeof browser>, over: Record<string, string>, js = false) =>
		b.post(`${SETTINGS}?/checkCredentials`, form(over), {
			origin: ORIGIN,
			headers: js ? { 'x-sveltekit-action': 'true', accept: 'application/json' } : {}
		});
	/** The visible text of a page, without tags (the report's words span elements). */
	const text = (html: string) =>
		html
			.replace(/<[^>]+>/g, ' ')
			.replace(/&#39;|&rsquo;/g, "'")
			.replace(/\s+/g, ' ');

	test('raw Basic: the standard way refused, the raw one accepted and, for the saved settings, remembered (no JavaScript)', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic);
		const b = await admin();
		const res = await check(b, {}); // the saved secret
		expect(res.status).toBe(200);
		const page = text(await res.text());
		expect(page).toContain(
			'The provider accepted this client ID and secret. Librariarr will send them as: HTTP Basic, id and secret sent as they are'
		);
		expect(page).toMatch(
			/form-encoded as the standard says \(client_secret_basic\) ?: refused \(HTTP 401: invalid_client/
		);
		expect(page).toMatch(
			/sent as they are \(client_secret_basic, not form-encoded\) ?: accepted \(HTTP 400: invalid_grant/
		);
		expect(page).toContain('Form body (client_secret_post) : refused');
		expect(page).not.toContain(RAW_BASIC_SECRET);
		// A made-up code per way, at most three; nothing was exchanged.
		expect(attempts()).toEqual(['basic 401', 'basic 400', 'body 401']);
		expect((await learnt()).oidcClientAuthLearnt).toBe('basic-raw');
	});

	test('post only: the form body is the way that works (enhanced form, JSON)', async () => {
		await useClient(QUIRK_CLIENTS.postOnly);
		const b = await admin();
		const res = await check(b, { oidcClientId: QUIRK_CLIENTS.postOnly }, true);
		expect(res.status).toBe(200);
		const body = await res.json();
		expect(body.type).toBe('success');
		const data = JSON.stringify(body.data);
		expect(data).toContain('Librariarr will send them as: Form body (client_secret_post)');
		expect(data).not.toContain(RAW_BASIC_SECRET);
		expect((await learnt()).oidcClientAuthLearnt).toBe('post');
	});

	test('a wrong typed secret: refused with every method, said plainly; nothing stored', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic);
		const b = await admin();
		for (const js of [false, true]) {
			const res = await check(b, { oidcClientSecret: 'wrong+secret/' }, js);
			const page = js ? JSON.stringify(await res.json()) : text(await res.text());
			expect(page).toContain(
				'The provider refused this client ID and secret with every method it lists: check the secret'
			);
			expect(page).not.toContain('wrong+secret/');
		}
		expect((await learnt()).oidcClientAuthLearnt).toBeNull();
	});

	test('a typed secret that is not the saved one is checked but its verdict is not stored', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic, 'the saved, old secret');
		const b = await admin();
		const page = text(await (await check(b, { oidcClientSecret: RAW_BASIC_SECRET })).text());
		expect(page).toContain('The provider accepted this client ID and secret.');
		expect((await learnt()).oidcClientAuthLearnt).toBeNull();
	});

	test('without a client ID the check asks for one and sends nothing', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic);
		const b = await admin();
		const res = await check(b, { oidcClientId: '' });
		expect(res.status).toBe(400);
		expect(await res.text()).toContain('Enter the client ID first.');
		expect(attempts()).toEqual([]);
	});
});
