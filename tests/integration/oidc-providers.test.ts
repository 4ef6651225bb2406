// OIDC sign-in against providers that do things differently from the textbook, each shaped by the
// test-controlled provider in tests/helpers/hostile-idp.ts: Entra's multi-tenant issuer template,
// signed or failing userinfo, client_secret_post, redirecting discovery and JWKS, every accepted
// signing algorithm, key sets without kid. Also how often the app asks the provider: discovery
// and JWKS are cached per issuer, with one fetch in flight.
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App, signedIn } from '../helpers/app';
import { makeKey, startHostileIdp, without, type HostileIdp } from '../helpers/hostile-idp';

const CLIENT_ID = 'librariarr';
// Every character RFC 6749 §2.3.1 asks to be form-encoded, including the ones the issue names.
const CLIENT_SECRET = 'tilde~colon:percent%41plus+slash/equals= space';
const SECRET_KEY = 'oidc-providers-test-key';
const ORIGIN = 'http://librariarr.test';
const SESSION_COOKIE = 'librariarr_session';

let app: App;
let idp: HostileIdp;
let adminId: number;

beforeAll(async () => {
	idp = await startHostileIdp({ clientId: CLIENT_ID });
	app = await startApp({ SECRET_KEY, ORIGIN });
	adminId = await insertAdmin(app.sql);
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
});
beforeEach(async () => {
	idp.reset();
	await app.sql`delete from "Session"`;
	await app.sql`delete from "UsedSignInFlow"`;
	await setup({});
});

/**
 * Points the app at the provider (issuer `issuerPath` under it), links the admin to `linkIssuer`
 * (the configured issuer unless told) and moves the configuration version on, as a save does.
 */
async function setup({
	issuerPath = '',
	linkIssuer,
	secret = CLIENT_SECRET,
	clientAuth = 'auto'
}: {
	issuerPath?: string;
	linkIssuer?: string;
	secret?: string | null;
	clientAuth?: string;
}) {
	const issuer = idp.issuer + issuerPath;
	const sealed = secret === null ? null : seal(secret, loadKey({ SECRET_KEY }));
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${issuer},
			"oidcClientId" = ${CLIENT_ID}, "oidcClientSecret" = ${sealed}, "ssoEnabled" = true,
			"oidcClientAuthMethod" = ${clientAuth}, "localAuthEnabled" = true,
			"oidcClientAuthLearnt" = null, "oidcSeenIssuer" = null, "oidcSeenIdTokenAlg" = null,
			"oidcSeenUsernameClaim" = null, "oidcSeenUsernameClaimFrom" = null,
			"ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
	await app.sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${linkIssuer ?? issuer},
			"ssoSubject" = 'alice'
		where id = ${adminId}
	`;
	return issuer;
}

type Browser = ReturnType<typeof browser>;

async function begin(b: Browser) {
	const res = await b.get('/api/auth/sso/oidc/login');
	expect(res.status).toBe(303);
	return idp.authorize(res.headers.get('location') ?? '');
}

async function signInWith(make: (nonce: string) => Promise<string> | string) {
	const b = browser(app.url);
	idp.state.idToken = ({ nonce }) => make(nonce!);
	const request = await begin(b);
	const res = await b.get(
		`/api/auth/sso/oidc/callback?${new URLSearchParams({ code: request.code, state: request.state })}`
	);
	return { res, b };
}

async function sessionRows() {
	return app.sql<{ userId: number; displayName: string | null }[]>`
		select "userId", "displayName" from "Session"
	`;
}

async function expectSignedIn({ res, b }: { res: Response; b: Browser }) {
	expect(res.headers.get('location')).toBe('/');
	expect(b.jar.has(SESSION_COOKIE)).toBe(true);
	const rows = await sessionRows();
	expect(rows).toHaveLength(1);
	expect(rows[0].userId).toBe(adminId);
	return rows[0];
}

async function expectRefused({ res, b }: { res: Response; b: Browser }, code: string) {
	expect(res.headers.get('location')).toBe(`/login?sso_error=${code}`);
	expect(b.jar.has(SESSION_COOKIE)).toBe(false);
	expect(await sessionRows()).toHaveLength(0);
}

const good =
	(extra: JWTPayload = {}) =>
	(nonce: string) =>
		idp.sign(idp.claims(nonce, extra));

const noUsername = (nonce: string) => idp.sign(without(idp.claims(nonce), 'preferred_username'));

async function waitForLog(text: string) {
	for (let i = 0; i < 50 && !app.logs().includes(text); i++)
		await new Promise((r) => setTimeout(r, 50));
	return app.logs().includes(text);
}

/** A browser signed in as the admin with the password (posts carry the public origin). */
async function admin() {
	return signedIn(app.url, { origin: ORIGIN });
}

const post = (b: Browser, path: string, form: Record<string, string> = {}) =>
	b.post(path, form, { origin: ORIGIN });

const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));

describe('discovery and JWKS are cached per issuer', () => {
	test('100 sign-in starts in a row fetch the discovery document once', async () => {
		for (let i = 0; i < 100; i++) {
			const res = await browser(app.url).get('/api/auth/sso/oidc/login');
			expect(res.status).toBe(303);
		}
		expect(idp.state.discoveryHits).toBe(1);
	});

	test('40 parallel starts against a slow issuer open one connection and make one fetch', async () => {
		idp.state.discoveryDelayMs = 1_500;
		const answers = await Promise.all(
			Array.from({ length: 40 }, () => browser(app.url).get('/api/auth/sso/oidc/login'))
		);
		for (const res of answers) {
			expect(res.status).toBe(303);
			expect(res.headers.get('location')).toMatch(new RegExp(`^${idp.issuer}/authorize\\?`));
		}
		expect(idp.state.discoveryHits).toBe(1);
		// At most one: a connection kept alive from the test before may be reused.
		expect(idp.state.connections).toBeLessThanOrEqual(1);
		expect(idp.state.requests).toBe(1);
	});

	test('a saved configuration (a new version, from any instance) makes the app fetch again', async () => {
		await browser(app.url).get('/api/auth/sso/oidc/login');
		await browser(app.url).get('/api/auth/sso/oidc/login');
		expect(idp.state.discoveryHits).toBe(1);
		await app.sql`update "AppSettings" set "ssoConfigVersion" = "ssoConfigVersion" + 1`;
		await browser(app.url).get('/api/auth/sso/oidc/login');
		await browser(app.url).get('/api/auth/sso/oidc/login');
		expect(idp.state.discoveryHits).toBe(2);
	});

	test('a provider whose discovery fails is not asked again by every visitor', async () => {
		idp.state.redirects.set('/.well-known/openid-configuration', [302, '/gone']);
		for (let i = 0; i < 20; i++) {
			const res = await browser(app.url).get('/api/auth/sso/oidc/login');
			expect(res.headers.get('location')).toBe('/login?sso_error=token_exchange_failed');
		}
		// The redirect and the 404 behind it, once.
		expect(idp.state.requests).toBe(2);
	});

	test('20 parallel callbacks fetch the JWKS once, and the next save fetches it again', async () => {
		const started = [];
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce!));
		for (let i = 0; i < 20; i++) {
			const b = browser(app.url);
			started.push({ b, request: await begin(b) });
		}
		const answers = await Promise.all(
			started.map(({ b, request }) =>
				b.get(
					`/api/auth/sso/oidc/callback?${new URLSearchParams({ code: request.code, state: request.state })}`
				)
			)
		);
		for (const res of answers) expect(res.headers.get('location')).toBe('/');
		expect(idp.jwksHits()).toBe(1);
		expect(idp.state.discoveryHits).toBe(1);

		await app.sql`update "AppSettings" set "ssoConfigVersion" = "ssoConfigVersion" + 1`;
		await expectSignedInAgain();
		expect(idp.jwksHits()).toBe(2);
	});
});

async function expectSignedInAgain() {
	await app.sql`delete from "Session"`;
	await expectSignedIn(await signInWith(good()));
}

describe('Microsoft Entra multi-tenant issuer', () => {
	const TEMPLATE = '/{tenantid}/v2.0';
	const tenantIssuer = (tid: string) => `${idp.issuer}/${tid}/v2.0`;
	const entraToken =
		(tid: string, extra: JWTPayload = {}) =>
		(nonce: string) =>
			idp.sign(idp.claims(nonce, { iss: tenantIssuer(tid), tid, ...extra }));

	beforeEach(async () => {
		idp.state.discovery = { issuer: idp.issuer + TEMPLATE };
		await setup({ issuerPath: '/common/v2.0', linkIssuer: tenantIssuer('tenant-a') });
	});

	test('a token whose iss is the template filled with its own tid signs in the user linked in that tenant', async () => {
		await expectSignedIn(await signInWith(entraToken('tenant-a')));
	});

	test('the same subject from another tenant does not sign that user in', async () => {
		await expectRefused(await signInWith(entraToken('tenant-b')), 'not_linked');
	});

	test('a token whose iss names another tenant than its tid is refused', async () => {
		const forged = (nonce: string) =>
			idp.sign(idp.claims(nonce, { iss: tenantIssuer('tenant-a'), tid: 'tenant-b' }));
		await expectRefused(await signInWith(forged), 'token_exchange_failed');
	});

	test('a token without tid, or with the template itself as iss, is refused', async () => {
		const noTid = (nonce: string) => idp.sign(idp.claims(nonce, { iss: tenantIssuer('tenant-a') }));
		await expectRefused(await signInWith(noTid), 'token_exchange_failed');
		const literal = (nonce: string) =>
			idp.sign(idp.claims(nonce, { iss: idp.issuer + TEMPLATE, tid: '{tenantid}' }));
		await expectRefused(await signInWith(literal), 'token_exchange_failed');
	});

	test("an iss response parameter must be the token's tenant issuer", async () => {
		for (const [iss, location] of [
			[tenantIssuer('tenant-a'), '/'],
			[tenantIssuer('tenant-b'), '/login?sso_error=state_mismatch'],
			[idp.issuer + TEMPLATE, '/login?sso_error=state_mismatch']
		]) {
			await app.sql`delete from "Session"`;
			const b = browser(app.url);
			idp.state.idToken = ({ nonce }) => entraToken('tenant-a')(nonce!);
			const request = await begin(b);
			const res = await b.get(
				`/api/auth/sso/oidc/callback?${new URLSearchParams({ code: request.code, state: request.state, iss })}`
			);
			expect(res.headers.get('location')).toBe(location);
		}
	});

	test('Verify & Link stores the real issuer of the token, and SSO can then be enabled', async () => {
		await app.sql`
			update "User" set "ssoProvider" = null, "ssoIssuer" = null, "ssoSubject" = null
			where id = ${adminId}
		`;
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = await admin();
		idp.state.idToken = ({ nonce }) => entraToken('tenant-a')(nonce!);
		const start = await post(b, '/settings/authentication?/verifyLink');
		expect(start.status).toBe(303);
		const request = idp.authorize(start.headers.get('location') ?? '');
		const done = await b.get(
			`/api/auth/sso/oidc/callback?${new URLSearchParams({ code: request.code, state: request.state })}`
		);
		expect(done.headers.get('location')).toBe('/settings/authentication?sso_linked=1#sso');
		const [user] =
			await app.sql`select "ssoIssuer", "ssoSubject" from "User" where id = ${adminId}`;
		expect(user).toEqual({ ssoIssuer: tenantIssuer('tenant-a'), ssoSubject: 'alice' });

		const enable = await post(b, '/settings/authentication?/saveSso', { ssoEnabled: 'on' });
		expect(await enable.text()).toContain('SSO login is on.');
		const [settings] = await app.sql`select "ssoEnabled" from "AppSettings"`;
		expect(settings.ssoEnabled).toBe(true);
	});

	test('a subject pasted by hand is refused for a multi-tenant issuer', async () => {
		await app.sql`
			update "User" set "ssoProvider" = null, "ssoIssuer" = null, "ssoSubject" = null
			where id = ${adminId}
		`;
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = await admin();
		const res = await post(b, '/settings/authentication?/linkManual', { subject: 'alice' });
		expect(res.status).toBe(409);
		expect(await res.text()).toContain('use Verify &amp; Link via OIDC instead');
		const [user] = await app.sql`select "ssoSubject" from "User" where id = ${adminId}`;
		expect(user.ssoSubject).toBeNull();
	});
});

describe('userinfo', () => {
	test('a signed userinfo (application/jwt) is verified with the JWKS and its claims used', async () => {
		idp.state.userinfoAnswer = async () => ({
			contentType: 'application/jwt',
			body: await idp.sign({
				iss: idp.issuer,
				aud: CLIENT_ID,
				sub: 'alice',
				preferred_username: 'Alice (signed userinfo)'
			})
		});
		const row = await expectSignedIn(await signInWith(noUsername));
		expect(row.displayName).toBe('Alice (signed userinfo)');
	});

	test('a signed userinfo by another key, for another audience or another sub is refused', async () => {
		const impostor = await makeKey('key-1');
		const cases: [JWTPayload, typeof impostor | undefined][] = [
			[{ iss: idp.issuer, aud: CLIENT_ID, sub: 'alice' }, impostor],
			[{ iss: idp.issuer, aud: 'someone-else', sub: 'alice' }, undefined],
			[{ iss: 'https://evil.example', aud: CLIENT_ID, sub: 'alice' }, undefined],
			[{ iss: idp.issuer, aud: CLIENT_ID, sub: 'mallory' }, undefined]
		];
		for (const [claims, key] of cases) {
			await app.sql`delete from "Session"`;
			idp.state.userinfoAnswer = async () => ({
				contentType: 'application/jwt; charset=utf-8',
				body: await idp.sign({ ...claims, preferred_username: 'x' }, key)
			});
			await expectRefused(await signInWith(noUsername), 'token_exchange_failed');
		}
	});

	test('a failing userinfo does not stop the sign-in: a warning, and the subject as the name', async () => {
		idp.state.userinfoAnswer = () => ({ status: 500, body: 'oops' });
		const row = await expectSignedIn(await signInWith(noUsername));
		expect(row.displayName).toBe('alice');
		expect(await waitForLog('OIDC userinfo failed; signing in without its claims')).toBe(true);
	});

	test('a userinfo that answers no JSON does not stop the sign-in', async () => {
		idp.state.userinfoAnswer = () => ({ contentType: 'text/html', body: '<html>login</html>' });
		const row = await expectSignedIn(await signInWith(noUsername));
		expect(row.displayName).toBe('alice');
	});

	test('a userinfo that does not answer in time does not stop the sign-in', async () => {
		idp.state.userinfoAnswer = () => ({ body: '{"sub":"alice"}', delayMs: 8_000 });
		const started = Date.now();
		const row = await expectSignedIn(await signInWith(noUsername));
		expect(row.displayName).toBe('alice');
		expect(Date.now() - started).toBeLessThan(8_000);
	}, 20_000);

	test('a provider without a userinfo endpoint signs in with the subject as the name', async () => {
		idp.state.discovery = { userinfo_endpoint: undefined };
		await setup({});
		const row = await expectSignedIn(await signInWith(noUsername));
		expect(row.displayName).toBe('alice');
		expect(idp.state.userinfoRequests).toHaveLength(0);
	});

	test('a userinfo for another sub still ends the sign-in', async () => {
		idp.state.userinfo = () => ({ sub: 'mallory', preferred_username: 'alice' });
		await expectRefused(await signInWith(noUsername), 'token_exchange_failed');
	});
});

describe('client authentication at the token endpoint', () => {
	function sent() {
		const [request] = idp.state.tokenRequests;
		return { authorization: request.authorization, body: request.body };
	}

	function basicParts(authorization: string | null) {
		const decoded = Buffer.from((authorization ?? '').slice('Basic '.length), 'base64').toString();
		const colon = decoded.indexOf(':');
		return [decoded.slice(0, colon), decoded.slice(colon + 1)];
	}

	test('a provider listing only client_secret_post gets the secret in the form body', async () => {
		idp.state.discovery = { token_endpoint_auth_methods_supported: ['client_secret_post'] };
		await setup({});
		await expectSignedIn(await signInWith(good()));
		const { authorization, body } = sent();
		expect(authorization).toBeNull();
		expect(body.get('client_id')).toBe(CLIENT_ID);
		expect(body.get('client_secret')).toBe(CLIENT_SECRET);
	});

	test('a provider listing both gets HTTP Basic, both parts form-encoded', async () => {
		idp.state.discovery = {
			token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic']
		};
		await setup({});
		await expectSignedIn(await signInWith(good()));
		const { authorization, body } = sent();
		const [id, secret] = basicParts(authorization);
		expect(secret).not.toMatch(/[~:/= ]/);
		expect(formDecode(id)).toBe(CLIENT_ID);
		expect(formDecode(secret)).toBe(CLIENT_SECRET);
		expect(body.get('client_secret')).toBeNull();
	});

	test('a provider listing nothing gets HTTP Basic (the default of the spec)', async () => {
		idp.state.discovery = { token_endpoint_auth_methods_supported: undefined };
		await setup({});
		await expectSignedIn(await signInWith(good()));
		expect(formDecode(basicParts(sent().authorization)[1])).toBe(CLIENT_SECRET);
	});

	test('the setting forces client_secret_post even when the provider lists Basic', async () => {
		await setup({ clientAuth: 'client_secret_post' });
		await expectSignedIn(await signInWith(good()));
		expect(sent().authorization).toBeNull();
		expect(sent().body.get('client_secret')).toBe(CLIENT_SECRET);
	});

	test('the setting forces client_secret_basic even when the provider lists only post', async () => {
		idp.state.discovery = { token_endpoint_auth_methods_supported: ['client_secret_post'] };
		await setup({ clientAuth: 'client_secret_basic' });
		await expectSignedIn(await signInWith(good()));
		expect(formDecode(basicParts(sent().authorization)[1])).toBe(CLIENT_SECRET);
		expect(sent().body.get('client_secret')).toBeNull();
	});

	test('a refused client is retried with the same code, PKCE and secret, at the token endpoint only, never as a public client', async () => {
		idp.state.discovery = {
			token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none']
		};
		await setup({});
		idp.state.refuseClient = 2;
		await expectSignedIn(await signInWith(good()));
		const requests = idp.state.tokenRequests;
		expect(requests).toHaveLength(3);
		const [encoded, raw, post] = requests;
		expect(formDecode(basicParts(encoded.authorization)[1])).toBe(CLIENT_SECRET);
		expect(basicParts(raw.authorization)[1]).toBe(CLIENT_SECRET);
		expect(post.authorization).toBeNull();
		expect(post.body.get('client_secret')).toBe(CLIENT_SECRET);
		for (const request of requests) {
			expect(request.pkceVerified).toBe(true);
			expect(request.body.get('code')).toBe(encoded.body.get('code'));
		}

		// Refused every way: three requests, none without the secret, and the provider's words
		// reach the log without its control characters and only so long.
		idp.reset();
		await app.sql`update "AppSettings" set "oidcClientAuthLearnt" = null`;
		await app.sql`delete from "Session"`;
		idp.state.refuseClient = 10;
		await expectRefused(await signInWith(good()), 'token_exchange_failed');
		expect(idp.state.tokenRequests).toHaveLength(3);
		for (const request of idp.state.tokenRequests)
			expect(!!request.authorization || request.body.get('client_secret') === CLIENT_SECRET).toBe(
				true
			);
		expect(await waitForLog('invalid_client (“Wrong credentials')).toBe(true);
		expect(app.logs()).not.toContain('\u202e');
		expect(app.logs()).not.toContain('x'.repeat(300));
	});

	test('a public client sends its client_id and no secret at all', async () => {
		idp.state.discovery = { token_endpoint_auth_methods_supported: ['none'] };
		await setup({ secret: null });
		await expectSignedIn(await signInWith(good()));
		expect(sent().authorization).toBeNull();
		expect(sent().body.get('client_id')).toBe(CLIENT_ID);
		expect(sent().body.get('client_secret')).toBeNull();
	});

	test('the setting "none" keeps a saved secret from being sent', async () => {
		await setup({ clientAuth: 'none' });
		await expectSignedIn(await signInWith(good()));
		expect(sent().authorization).toBeNull();
		expect(sent().body.get('client_secret')).toBeNull();
	});
});

describe('redirects of discovery and JWKS', () => {
	test('discovery that redirects three times is followed, and the issuer still checked', async () => {
		idp.state.redirects.set('/.well-known/openid-configuration', [301, '/a']);
		idp.state.redirects.set('/a', [302, `${idp.issuer}/b`]);
		idp.state.redirects.set('/b', [307, '/moved/.well-known/openid-configuration']);
		await expectSignedIn(await signInWith(good()));
	});

	test('a fourth redirect is not followed', async () => {
		idp.state.redirects.set('/.well-known/openid-configuration', [301, '/a']);
		idp.state.redirects.set('/a', [302, '/b']);
		idp.state.redirects.set('/b', [303, '/c']);
		idp.state.redirects.set('/c', [308, '/moved/.well-known/openid-configuration']);
		const res = await browser(app.url).get('/api/auth/sso/oidc/login');
		expect(res.headers.get('location')).toBe('/login?sso_error=token_exchange_failed');
		expect(await waitForLog('more than 3 redirects')).toBe(true);
	});

	test('a redirect to a document of another issuer ends in an issuer mismatch', async () => {
		const other = await startHostileIdp({ clientId: CLIENT_ID });
		try {
			idp.state.redirects.set('/.well-known/openid-configuration', [
				302,
				`${other.issuer}/.well-known/openid-configuration`
			]);
			const res = await browser(app.url).get('/api/auth/sso/oidc/login');
			expect(res.headers.get('location')).toBe('/login?sso_error=token_exchange_failed');
			expect(await waitForLog('OIDC issuer mismatch')).toBe(true);
			// Both values, so that the admin sees which one to change.
			expect(
				await waitForLog(
					// as the JSON log line writes it
					JSON.stringify(
						`the provider reports "${other.issuer}", but the configured issuer is "${idp.issuer}"`
					).slice(1, -1)
				)
			).toBe(true);
		} finally {
			await other.stop();
		}
	});

	test('a JWKS that redirects is followed', async () => {
		idp.state.redirects.set('/jwks', [302, '/keys/current']);
		idp.state.jwks.set('/keys/current', [idp.primary.publicJwk]);
		await expectSignedIn(await signInWith(good()));
		expect(idp.jwksHits('/keys/current')).toBe(1);
	});
});

describe('signing algorithms and keys', () => {
	const ALGORITHMS = [
		'RS256',
		'RS384',
		'RS512',
		'PS256',
		'PS384',
		'PS512',
		'ES256',
		'ES384',
		'ES512',
		'EdDSA'
	];

	test('every algorithm the provider lists among the accepted ones signs in', async () => {
		const keys = await Promise.all(ALGORITHMS.map((alg) => makeKey(`k-${alg}`, alg)));
		idp.state.jwks.set(
			'/jwks',
			keys.map((k) => k.publicJwk)
		);
		idp.state.discovery = { id_token_signing_alg_values_supported: ALGORITHMS };
		await setup({});
		for (const key of keys) {
			await app.sql`delete from "Session"`;
			await expectSignedIn(await signInWith((nonce) => idp.sign(idp.claims(nonce), key)));
		}
	});

	test('an algorithm the provider does not list is refused', async () => {
		const es = await makeKey('k-es', 'ES256');
		idp.state.jwks.set('/jwks', [idp.primary.publicJwk, es.publicJwk]);
		idp.state.discovery = { id_token_signing_alg_values_supported: ['RS256'] };
		await setup({});
		await expectRefused(
			await signInWith((nonce) => idp.sign(idp.claims(nonce), es)),
			'token_exchange_failed'
		);
	});

	test('a provider listing no algorithm gets RS256 only', async () => {
		const es = await makeKey('k-es', 'ES256');
		idp.state.jwks.set('/jwks', [idp.primary.publicJwk, es.publicJwk]);
		idp.state.discovery = { id_token_signing_alg_values_supported: undefined };
		await setup({});
		await expectSignedIn(await signInWith(good()));
		await app.sql`delete from "Session"`;
		await expectRefused(
			await signInWith((nonce) => idp.sign(idp.claims(nonce), es)),
			'token_exchange_failed'
		);
	});

	test('a JWKS with one key and no kid verifies a token whose header has no kid', async () => {
		const bare = await makeKey('');
		idp.state.jwks.set('/jwks', [bare.publicJwk]);
		await setup({});
		await expectSignedIn(await signInWith((nonce) => idp.sign(idp.claims(nonce), bare)));
	});

	test('a JWKS with one key and no kid verifies a token whose header names a kid', async () => {
		const bare = await makeKey('');
		idp.state.jwks.set('/jwks', [bare.publicJwk]);
		await setup({});
		await expectSignedIn(
			await signInWith((nonce) => idp.sign(idp.claims(nonce), bare, 'some-kid'))
		);
	});

	test('a token header without kid is verified against the matching key of a JWKS with kids', async () => {
		await expectSignedIn(await signInWith((nonce) => idp.sign(idp.claims(nonce), idp.primary, '')));
	});

	test('a token without kid signed by a stranger is still refused', async () => {
		const bare = await makeKey('');
		const stranger = await makeKey('');
		idp.state.jwks.set('/jwks', [bare.publicJwk]);
		await setup({});
		await expectRefused(
			await signInWith((nonce) => idp.sign(idp.claims(nonce), stranger, 'some-kid')),
			'token_exchange_failed'
		);
	});
});

describe('Test Discovery', () => {
	// SSO on hides the password form the admin signs in with here.
	beforeEach(async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
	});

	const form = (over: Record<string, string> = {}) => ({
		ssoMode: 'OIDC',
		oidcIssuer: idp.issuer,
		oidcClientId: CLIENT_ID,
		oidcClientSecret: '',
		oidcClientAuthMethod: 'auto',
		oidcScopes: 'openid profile email',
		oidcUsernameClaim: 'preferred_username',
		forwardAuthUserHeader: 'Remote-User',
		forwardAuthEmailHeader: 'Remote-Email',
		forwardAuthNameHeader: 'Remote-Name',
		...over
	});

	async function testDiscovery(over: Record<string, string> = {}) {
		const b = await admin();
		const res = await post(b, '/settings/authentication?/testDiscovery', form(over));
		return { status: res.status, html: await res.text() };
	}

	test('reports algorithms, client authentication, PKCE, iss parameter and logout support', async () => {
		idp.state.discovery = {
			id_token_signing_alg_values_supported: ['RS256', 'ES256'],
			token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
			authorization_response_iss_parameter_supported: true,
			end_session_endpoint: `${idp.issuer}/logout`,
			backchannel_logout_supported: true,
			backchannel_logout_session_supported: true
		};
		const { status, html } = await testDiscovery();
		expect(status).toBe(200);
		expect(html).toContain('Discovery succeeded.');
		for (const text of [
			'RS256, ES256',
			'client_secret_basic, client_secret_post',
			'PKCE S256</dt>',
			'supported (with session IDs)',
			`${idp.issuer}/logout`
		])
			expect(html).toContain(text);
		expect(html).not.toContain('data-testid="discovery-warnings"');
	});

	test('warns when PKCE S256 is not listed', async () => {
		idp.state.discovery = { code_challenge_methods_supported: ['plain'] };
		const { html } = await testDiscovery();
		expect(html).toContain('does not list PKCE S256');
	});

	test('warns when no secret is entered and the provider lists no public-client method', async () => {
		await app.sql`update "AppSettings" set "oidcClientSecret" = null`;
		idp.state.discovery = { token_endpoint_auth_methods_supported: ['client_secret_basic'] };
		const { html } = await testDiscovery();
		expect(html).toContain('No client secret is set, and the provider lists no public-client');
		// With the secret typed in, that warning goes.
		const typed = await testDiscovery({ oidcClientSecret: 'typed' });
		expect(typed.html).not.toContain('No client secret is set');
	});

	test('Save Configuration warns when no secret is saved and the provider lists no public-client method', async () => {
		await app.sql`update "AppSettings" set "oidcClientSecret" = null`;
		idp.state.discovery = { token_endpoint_auth_methods_supported: ['client_secret_basic'] };
		const b = await admin();
		const res = await post(b, '/settings/authentication?/saveConnection', form());
		const html = await res.text();
		expect(res.status).toBe(200);
		expect(html).toContain('the provider lists no public-client method (none): Verify &amp; Link');
		// The provider accepting public clients: no warning.
		idp.state.discovery = {
			token_endpoint_auth_methods_supported: ['none', 'client_secret_basic']
		};
		await app.sql`update "AppSettings" set "ssoConfigVersion" = "ssoConfigVersion" + 1`;
		const again = await post(b, '/settings/authentication?/saveConnection', form());
		expect(await again.text()).not.toContain('lists no public-client method (none)');
	});

	test('without JavaScript, Save after a Test Discovery with a typed secret asks for it again', async () => {
		await app.sql`update "AppSettings" set "oidcClientSecret" = null`;
		const b = await admin();
		const tested = await post(
			b,
			'/settings/authentication?/testDiscovery',
			form({ oidcClientSecret: 'typed' })
		);
		const page = await tested.text();
		expect(page).toContain('name="secretTypedInTest"');
		expect(page).not.toContain('value="typed"');
		const res = await post(
			b,
			'/settings/authentication?/saveConnection',
			form({ secretTypedInTest: '1' })
		);
		expect(res.status).toBe(400);
		expect(await res.text()).toContain('is not sent back to this page: type it again');
		const [row] = await app.sql`select "oidcClientSecret" from "AppSettings"`;
		expect(row.oidcClientSecret).toBeNull();
	});

	test('warns when the forced client authentication is not one the provider lists', async () => {
		idp.state.discovery = { token_endpoint_auth_methods_supported: ['client_secret_basic'] };
		const { html } = await testDiscovery({ oidcClientAuthMethod: 'client_secret_post' });
		expect(html).toContain('does not list client_secret_post among its client authentication');
	});

	test('warns when the provider signs only with algorithms Librariarr refuses', async () => {
		idp.state.discovery = { id_token_signing_alg_values_supported: ['HS256'] };
		const { html } = await testDiscovery();
		expect(html).toContain('signs ID tokens only with HS256');
		expect(html).toContain('often id_token_signed_response_alg');
	});

	test('warns only about what applies: every algorithm listed, a claim left out of a partial list', async () => {
		// Providers list every algorithm they can do; with one Librariarr accepts, nothing to say.
		idp.state.discovery = {
			id_token_signing_alg_values_supported: ['none', 'HS256', 'HS384', 'HS512', 'RS256'],
			claims_supported: ['sub', 'email']
		};
		const listed = await testDiscovery();
		expect(listed.html).toContain('Discovery succeeded.');
		expect(listed.html).not.toContain('data-testid="discovery-warnings"');
		// claims_supported is often partial: before a sign-in saw what the provider sends, a claim
		// it leaves out is no warning, even without userinfo (the ID token may carry it).
		idp.state.discovery = { claims_supported: ['sub', 'email'], userinfo_endpoint: undefined };
		const noUserinfo = await testDiscovery();
		expect(noUserinfo.html).not.toContain('data-testid="discovery-warnings"');
		expect(noUserinfo.html).toContain('checks the ID token and userinfo');
	});

	test('after a sign-in, says what its ID token and claims were, and warns about a claim it lacked', async () => {
		// A provider without userinfo whose ID token has no preferred_username.
		idp.state.discovery = { userinfo_endpoint: undefined };
		await setup({});
		await expectSignedIn(await signInWith(noUsername));
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const { html } = await testDiscovery();
		expect(html).toContain('RS256 (the first ID token that verified)');
		expect(html).toContain(
			'At the last sign-in the provider sent no preferred_username, neither in the ID token nor from userinfo'
		);
		// The next sign-in's token carries it: the warning goes.
		await app.sql`delete from "Session"`;
		await app.sql`update "AppSettings" set "ssoEnabled" = true`;
		await expectSignedIn(await signInWith(good()));
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const after = await testDiscovery();
		expect(after.html).toContain('sent in the ID token (seen at the last sign-in)');
		expect(after.html).not.toContain('data-testid="discovery-warnings"');
	});

	test('a userinfo that fails says nothing about the claim', async () => {
		idp.state.userinfoAnswer = () => ({ status: 500, body: '{}' });
		await setup({});
		await expectSignedIn(await signInWith(noUsername));
		const [row] =
			await app.sql`select "oidcSeenIdTokenAlg", "oidcSeenUsernameClaimFrom" from "AppSettings"`;
		expect(row).toEqual({ oidcSeenIdTokenAlg: 'RS256', oidcSeenUsernameClaimFrom: null });
	});

	test('accepts an Entra multi-tenant issuer and says so', async () => {
		idp.state.discovery = { issuer: `${idp.issuer}/{tenantid}/v2.0` };
		const { html } = await testDiscovery({ oidcIssuer: `${idp.issuer}/common/v2.0` });
		expect(html).toContain('Discovery succeeded.');
		expect(html).toContain('Multi-tenant issuer');
	});
});

describe('step 2 after a failed Verify & Link', () => {
	test("an error instead of a code: the step, the provider's words (sanitised) and a hint", async () => {
		await app.sql`
			update "User" set "ssoProvider" = null, "ssoIssuer" = null, "ssoSubject" = null
			where id = ${adminId}
		`;
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = await admin();
		const start = await post(b, '/settings/authentication?/verifyLink');
		expect(start.status).toBe(303);
		const request = idp.authorize(start.headers.get('location') ?? '');
		const back = await b.get(
			`/api/auth/sso/oidc/callback?${new URLSearchParams({
				state: request.state,
				error: 'access_denied',
				error_description: 'User is not\nin the <b>librariarr</b> group' + 'x'.repeat(400)
			})}`
		);
		const location = back.headers.get('location') ?? '';
		expect(location).toBe('/settings/authentication?sso_link_error=token_exchange_failed#sso');
		const html = await (await b.get(location)).text();
		expect(html).toContain('data-testid="link-error-detail"');
		expect(html).toContain(
			'What happened: The provider answered the authorization request with error=access_denied (“User is not in the &lt;b>librariarr&lt;/b> group'
		);
		// Capped, and the hint for the cause.
		expect(html).not.toContain('x'.repeat(200));
		expect(html).toContain('check which users or groups the client is assigned to at the provider');
	});
});

describe("the provider's clock (its Date header)", () => {
	const words = /this server(&#39;|')s clock differs from the provider(&#39;|')s by 1(19|20|21) s/i;

	test('Test Discovery warns above 30 s of offset, and not below', async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = await admin();
		const discover = async () =>
			(
				await post(b, '/settings/authentication?/testDiscovery', {
					ssoMode: 'OIDC',
					oidcIssuer: idp.issuer,
					oidcClientId: CLIENT_ID,
					oidcClientSecret: '',
					oidcClientAuthMethod: 'auto',
					oidcScopes: 'openid profile email',
					oidcUsernameClaim: 'preferred_username',
					forwardAuthUserHeader: 'Remote-User',
					forwardAuthEmailHeader: 'Remote-Email',
					forwardAuthNameHeader: 'Remote-Name'
				})
			).text();
		idp.state.clockOffsetS = 120;
		expect(await discover()).toMatch(words);
		idp.state.clockOffsetS = 10;
		const calm = await discover();
		expect(calm).toContain('Discovery succeeded.');
		expect(calm).not.toMatch(/clock differs/);
	});

	test('a sign-in refused for an expired token says the clock is off', async () => {
		// The provider is two minutes behind: its token expired (by its clock, 30 s from now) 90 s
		// ago by ours, past the verification's 60 s of tolerance.
		idp.state.clockOffsetS = -120;
		const behind = Math.floor(Date.now() / 1000) - 120;
		await expectRefused(
			await signInWith((nonce) => idp.sign(idp.claims(nonce, { iat: behind, exp: behind + 30 }))),
			'token_exchange_failed'
		);
		expect(app.logs()).toMatch(
			/ID token rejected \([^)]*\); this server's clock differs from the provider's by 1(19|20|21) s \(it is ahead of the provider's\)/
		);
	});
});
