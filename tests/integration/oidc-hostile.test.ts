// OIDC sign-in against a provider that lies: every malformed or hostile answer ends on the login
// page with its banner code, with no session cookie and no "Session" row. The happy path runs
// first, through the same harness, so that a refusal below means a refusal and not a broken rig.
import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { browser, freshDatabase, insertAdmin, startApp, type App } from '../helpers/app';
import {
	craftJwt,
	makeKey,
	startHostileIdp,
	without,
	type HostileIdp
} from '../helpers/hostile-idp';
import { startServer } from '../helpers/server.js';
import { expireFlowCookie, sealFlowCookie } from '../helpers/flow-cookie';

const CLIENT_ID = 'librariarr';
// Every character RFC 6749 §2.3.1 wants form-encoded inside HTTP Basic, and a %41 that a double
// decode would turn into an "A".
const CLIENT_SECRET = 'hostile:secret%41 with+plus&amp/slash=';
const SECRET_KEY = 'oidc-hostile-test-key';
/** Long enough for two sign-ins in a row to fall inside it, short enough to wait out. */
const JWKS_COOLDOWN_MS = 5_000;
// Both app instances answer under one public origin, as they would behind one proxy, so the
// redirect_uri of the exchange is the one the provider saw in the authorization request.
const ORIGIN = 'http://librariarr.test';
const SESSION_COOKIE = 'librariarr_session';
const TX_COOKIE = 'librariarr_oidc_tx';

let app: App;
let idp: HostileIdp;
let adminId: number;

beforeAll(async () => {
	idp = await startHostileIdp({ clientId: CLIENT_ID });
	app = await startApp({
		SECRET_KEY,
		ORIGIN,
		OIDC_JWKS_COOLDOWN_MS: String(JWKS_COOLDOWN_MS)
	});
	adminId = await insertAdmin(app.sql);
	const sealed = seal(CLIENT_SECRET, loadKey({ SECRET_KEY }));
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
			"oidcClientId" = ${CLIENT_ID}, "oidcClientSecret" = ${sealed}, "ssoEnabled" = true
		where id = 1
	`;
	await app.sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${idp.issuer}, "ssoSubject" = 'alice'
		where id = ${adminId}
	`;
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
});
/** Set by the JWKS refetch tests, whose cached key set must outlive the tests. */
let keepConfigVersion = false;

beforeEach(async () => {
	idp.reset();
	await app.sql`delete from "Session"`;
	await app.sql`delete from "UsedSignInFlow"`;
	// A new configuration version makes the app fetch the discovery document afresh.
	if (!keepConfigVersion)
		await app.sql`update "AppSettings" set "ssoConfigVersion" = "ssoConfigVersion" + 1`;
});

/** Changes what the discovery document says and makes the app read it again. */
async function configure(discovery: Record<string, unknown>, jwksPath = '/jwks') {
	idp.state.discovery = discovery;
	idp.state.jwksPath = jwksPath;
	await app.sql`update "AppSettings" set "ssoConfigVersion" = "ssoConfigVersion" + 1`;
}

type Browser = ReturnType<typeof browser>;

/** Clicks "Sign in with SSO": the app must send the browser to the provider. */
async function begin(b: Browser) {
	const res = await b.get('/api/auth/sso/oidc/login');
	expect(res.status).toBe(303);
	const location = res.headers.get('location') ?? '';
	expect(location.startsWith(`${idp.issuer}/authorize?`)).toBe(true);
	expect(b.jar.has(TX_COOKIE)).toBe(true);
	const request = idp.authorize(location);
	expect(request.state).not.toBe('');
	expect(request.nonce).toBeTruthy();
	return request;
}

function callback(b: Browser, params: Record<string, string>) {
	return b.get(`/api/auth/sso/oidc/callback?${new URLSearchParams(params)}`);
}

/** Sends the ID token `make` returns through a whole sign-in and returns the callback answer. */
async function signInWith(
	make: (nonce: string) => Promise<string> | string,
	b: Browser = browser(app.url)
) {
	idp.state.idToken = ({ nonce }) => make(nonce!);
	const request = await begin(b);
	const res = await callback(b, { code: request.code, state: request.state });
	return { res, b, request };
}

async function sessionRows() {
	return app.sql<{ userId: number; method: string; ssoSubject: string | null }[]>`
		select "userId", method, "ssoSubject", "displayName", email from "Session"
	`;
}

async function expectRefused(res: Response, b: Browser, code: string) {
	expect(res.status).toBe(303);
	expect(res.headers.get('location')).toBe(`/login?sso_error=${code}`);
	expect(res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`))).toBe(false);
	expect(b.jar.has(SESSION_COOKIE)).toBe(false);
	expect(await sessionRows()).toHaveLength(0);
}

async function expectSignedIn(res: Response, b: Browser, subject = 'alice') {
	expect(res.status).toBe(303);
	expect(res.headers.get('location')).toBe('/');
	expect(b.jar.has(SESSION_COOKIE)).toBe(true);
	const rows = await sessionRows();
	expect(rows).toHaveLength(1);
	expect(rows[0]).toMatchObject({ userId: adminId, method: 'oidc', ssoSubject: subject });
	expect((await b.get('/')).status).toBe(200);
}

/** A well-formed token: the provider's key and claims, with `extra` merged over them. */
const good =
	(extra: JWTPayload = {}) =>
	(nonce: string) =>
		idp.sign(idp.claims(nonce, extra));

async function waitForLog(text: string, logs: () => string = () => app.logs()) {
	for (let i = 0; i < 50 && !logs().includes(text); i++)
		await new Promise((r) => setTimeout(r, 50));
	return logs().includes(text);
}

const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));

describe('the harness', () => {
	test('a correct RS256 ID token signs the linked user in with an oidc session', async () => {
		const { res, b, request } = await signInWith(good());
		await expectSignedIn(res, b);
		expect(request.codeChallengeMethod).toBe('S256');
		expect(idp.state.tokenRequests).toHaveLength(1);
		expect(idp.state.tokenRequests[0].pkceVerified).toBe(true);
		expect(b.jar.has(TX_COOKIE)).toBe(false);
	});

	test('the code exchange sends the client secret form-encoded inside HTTP Basic', async () => {
		const { res, b } = await signInWith(good());
		await expectSignedIn(res, b);
		const authorization = idp.state.tokenRequests[0].authorization ?? '';
		expect(authorization).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
		const decoded = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8');
		const colon = decoded.indexOf(':');
		const [id, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
		// Encoded, so the only colon is the separator and nothing is left raw.
		expect(secret).not.toMatch(/[: &/=]/);
		expect(secret).toBe('hostile%3Asecret%2541+with%2Bplus%26amp%2Fslash%3D');
		expect(formDecode(id)).toBe(CLIENT_ID);
		expect(formDecode(secret)).toBe(CLIENT_SECRET);
		expect(idp.state.tokenRequests[0].body.get('client_secret')).toBeNull();
	});
});

describe('a forged or mis-addressed ID token is refused', () => {
	test('a signature by another key under the published kid is refused', async () => {
		const impostor = await makeKey('key-1');
		const { res, b } = await signInWith((nonce) => idp.sign(idp.claims(nonce), impostor));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('an unsigned token (alg: none) is refused', async () => {
		const { res, b } = await signInWith((nonce) =>
			craftJwt({ alg: 'none', typ: 'JWT', kid: 'key-1' }, idp.claims(nonce))
		);
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('an HS256 token keyed with the client secret is refused', async () => {
		const { res, b } = await signInWith((nonce) =>
			new SignJWT(idp.claims(nonce))
				.setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
				.sign(new TextEncoder().encode(CLIENT_SECRET))
		);
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('HS256 and none stay refused even when the discovery document advertises them', async () => {
		await configure({ id_token_signing_alg_values_supported: ['HS256', 'none', 'RS256'] });
		const hs = await signInWith((nonce) =>
			new SignJWT(idp.claims(nonce))
				.setProtectedHeader({ alg: 'HS256' })
				.sign(new TextEncoder().encode(CLIENT_SECRET))
		);
		await expectRefused(hs.res, hs.b, 'token_exchange_failed');
		// The log says which provider setting to change.
		expect(
			await waitForLog(
				"set the client's ID token signing algorithm at the provider (often id_token_signed_response_alg)"
			)
		).toBe(true);
		const none = await signInWith((nonce) => craftJwt({ alg: 'none' }, idp.claims(nonce)));
		await expectRefused(none.res, none.b, 'token_exchange_failed');
	});

	test('a token from another issuer is refused', async () => {
		const { res, b } = await signInWith(good({ iss: 'https://evil.example' }));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('a token for another audience is refused', async () => {
		const { res, b } = await signInWith(good({ aud: 'someone-else' }));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('a token without aud is refused', async () => {
		const { res, b } = await signInWith((nonce) => idp.sign(without(idp.claims(nonce), 'aud')));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('several audiences including ours but no azp are refused', async () => {
		const { res, b } = await signInWith(good({ aud: [CLIENT_ID, 'someone-else'] }));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('an azp naming another client is refused', async () => {
		const { res, b } = await signInWith(good({ azp: 'someone-else' }));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('an expired token is refused', async () => {
		const now = Math.floor(Date.now() / 1000);
		const { res, b } = await signInWith(good({ iat: now - 7200, exp: now - 3600 }));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('a token without iat is refused', async () => {
		const { res, b } = await signInWith((nonce) => idp.sign(without(idp.claims(nonce), 'iat')));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('a token without exp is refused', async () => {
		const { res, b } = await signInWith((nonce) => idp.sign(without(idp.claims(nonce), 'exp')));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('a token carrying another nonce is refused', async () => {
		const { res, b } = await signInWith(() => idp.sign(idp.claims('not-the-nonce-we-sent')));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('a token without nonce is refused', async () => {
		const { res, b } = await signInWith(() => idp.sign(idp.claims(null)));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('a token without sub is refused', async () => {
		const { res, b } = await signInWith((nonce) => idp.sign(without(idp.claims(nonce), 'sub')));
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('a token endpoint that refuses the code ends the sign-in', async () => {
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(b);
		const res = await callback(b, { code: 'a-code-never-issued', state: request.state });
		await expectRefused(res, b, 'token_exchange_failed');
		expect(idp.state.tokenRequests).toHaveLength(1);
	});
});

describe('resource limits', () => {
	// src/lib/server/http.ts: "every call has a deadline and a size cap, so a slow or hostile
	// server can neither hang a request nor fill memory" (MAX_BODY_BYTES = 512 KiB).
	test('a token response far larger than the 512 KiB cap on provider answers is refused', async () => {
		idp.state.tokenPadding = 32 * 1024 * 1024;
		const { res, b } = await signInWith(good());
		await expectRefused(res, b, 'token_exchange_failed');
	});

	test('a JWKS far larger than the 512 KiB cap on provider answers is refused', async () => {
		// A key set this app instance has never loaded, so it is fetched for this sign-in.
		idp.state.jwks.set('/jwks-huge', [idp.primary.publicJwk]);
		idp.state.jwksPadding = 32 * 1024 * 1024;
		await configure({}, '/jwks-huge');
		const { res, b } = await signInWith(good());
		expect(idp.jwksHits('/jwks-huge')).toBe(1);
		await expectRefused(res, b, 'token_exchange_failed');
	});
});

describe('userinfo', () => {
	test('without the username claim, userinfo is read and fills in the session', async () => {
		idp.state.userinfo = () => ({ sub: 'alice', preferred_username: 'Alice from userinfo' });
		const { res, b } = await signInWith((nonce) =>
			idp.sign(without(idp.claims(nonce), 'preferred_username'))
		);
		await expectSignedIn(res, b);
		expect(idp.state.userinfoRequests).toEqual([
			{ authorization: `Bearer ${idp.state.accessToken}` }
		]);
		const [row] = await app.sql`select "displayName" from "Session"`;
		expect(row.displayName).toBe('Alice from userinfo');
	});

	test('userinfo for another sub than the ID token is refused', async () => {
		idp.state.userinfo = () => ({ sub: 'mallory', preferred_username: 'alice' });
		const { res, b } = await signInWith((nonce) =>
			idp.sign(without(idp.claims(nonce), 'preferred_username'))
		);
		await expectRefused(res, b, 'token_exchange_failed');
		expect(idp.state.userinfoRequests).toHaveLength(1);
	});

	test('userinfo without sub is refused', async () => {
		idp.state.userinfo = () => ({ preferred_username: 'alice' });
		const { res, b } = await signInWith((nonce) =>
			idp.sign(without(idp.claims(nonce), 'preferred_username'))
		);
		await expectRefused(res, b, 'token_exchange_failed');
		expect(idp.state.userinfoRequests).toHaveLength(1);
	});
});

describe('the iss response parameter (RFC 9207)', () => {
	test('a mismatching iss is refused when the provider advertises the parameter', async () => {
		await configure({ authorization_response_iss_parameter_supported: true });
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(b);
		const res = await callback(b, {
			code: request.code,
			state: request.state,
			iss: 'https://evil.example'
		});
		await expectRefused(res, b, 'state_mismatch');
		expect(idp.state.tokenRequests).toHaveLength(0);
	});

	test('a missing iss is refused when the provider advertises the parameter', async () => {
		await configure({ authorization_response_iss_parameter_supported: true });
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(b);
		const res = await callback(b, { code: request.code, state: request.state });
		await expectRefused(res, b, 'state_mismatch');
		expect(idp.state.tokenRequests).toHaveLength(0);
	});

	test('the right iss is accepted when the provider advertises the parameter', async () => {
		await configure({ authorization_response_iss_parameter_supported: true });
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(b);
		const res = await callback(b, { code: request.code, state: request.state, iss: idp.issuer });
		await expectSignedIn(res, b);
	});

	test('a mismatching iss is refused even when the provider does not advertise it', async () => {
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(b);
		const res = await callback(b, {
			code: request.code,
			state: request.state,
			iss: 'https://evil.example'
		});
		await expectRefused(res, b, 'state_mismatch');
		expect(idp.state.tokenRequests).toHaveLength(0);
	});
});

describe('state and the login transaction', () => {
	test('a replayed state is refused, even with the binding cookie put back', async () => {
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(b);
		const binding = b.jar.get(TX_COOKIE)!;
		const first = await callback(b, { code: request.code, state: request.state });
		await expectSignedIn(first, b);

		// The same browser (its binding cookie now cleared) and a copy that kept the cookie.
		const again = await callback(b, { code: request.code, state: request.state });
		expect(again.headers.get('location')).toBe('/login?sso_error=state_mismatch&flow=none');
		// (its flow cookie is gone: nobody started a sign-in here, and the banner says so)
		const copy = browser(app.url);
		copy.jar.set(TX_COOKIE, binding);
		const replay = await callback(copy, { code: request.code, state: request.state });
		expect(replay.status).toBe(303);
		expect(replay.headers.get('location')).toBe('/login?sso_error=state_mismatch');
		expect(copy.jar.has(SESSION_COOKIE)).toBe(false);
		expect(await sessionRows()).toHaveLength(1);
		// The copy got as far as the provider (this one even accepts a code twice, which real ones
		// refuse): a state is recorded as used only once the provider vouched for it, so that
		// callbacks nobody vouched for write nothing.
		expect(idp.state.tokenRequests).toHaveLength(2);
		expect(await app.sql`select 1 from "UsedSignInFlow"`).toHaveLength(1);
	});

	test('a state whose first callback failed cannot be retried by the browser, and writes nothing', async () => {
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce, { aud: 'someone-else' }));
		const request = await begin(b);
		await expectRefused(
			await callback(b, { code: request.code, state: request.state }),
			b,
			'token_exchange_failed'
		);
		expect(b.jar.has(TX_COOKIE)).toBe(false);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const retry = await callback(b, { code: request.code, state: request.state });
		await expectRefused(retry, b, 'state_mismatch&flow=none');
		expect(idp.state.tokenRequests).toHaveLength(1);
		expect(await app.sql`select 1 from "UsedSignInFlow"`).toHaveLength(0);
	});

	test('a state used from another browser is refused and does not use up the transaction', async () => {
		const alice = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(alice);

		// An attacker without the binding cookie, and one with a binding cookie of their own.
		const stranger = browser(app.url);
		await expectRefused(
			await callback(stranger, { code: request.code, state: request.state }),
			stranger,
			// no flow cookie at all: the banner says nobody started a sign-in in this browser
			'state_mismatch&flow=none'
		);
		const other = browser(app.url);
		await begin(other);
		await expectRefused(
			await callback(other, { code: request.code, state: request.state }),
			other,
			'state_mismatch'
		);
		expect(idp.state.tokenRequests).toHaveLength(0);
		expect(await app.sql`select 1 from "UsedSignInFlow"`).toHaveLength(0);

		const res = await callback(alice, { code: request.code, state: request.state });
		await expectSignedIn(res, alice);
	});

	test('an expired sign-in is refused', async () => {
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(b);
		expireFlowCookie(b.jar, 'oidc', SECRET_KEY);
		const res = await callback(b, { code: request.code, state: request.state });
		await expectRefused(res, b, 'state_mismatch');
		expect(idp.state.tokenRequests).toHaveLength(0);
	});

	test('a tampered cookie, another kind of sign-in’s cookie, or garbage reads as no sign-in, never a 500', async () => {
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const b = browser(app.url);
		const request = await begin(b);
		const sealed = b.jar.get(TX_COOKIE)!;
		const bent = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1);
		// A passkey challenge sealed under the right key, naming this very state: still not an OIDC flow.
		const otherKind = sealFlowCookie(
			'passkey',
			{ challenge: request.state, rpId: 'librariarr.test', origin: ORIGIN },
			SECRET_KEY
		);
		for (const value of [bent, otherKind, 'v1.' + 'A'.repeat(60), '%00%ff', 'x'.repeat(5000)]) {
			const copy = browser(app.url);
			copy.jar.set(TX_COOKIE, value);
			await expectRefused(
				await callback(copy, { code: request.code, state: request.state }),
				copy,
				'state_mismatch'
			);
		}
		expect(idp.state.tokenRequests).toHaveLength(0);
		await expectSignedIn(await callback(b, { code: request.code, state: request.state }), b);
	});

	test('a callback without state is refused', async () => {
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(b);
		const res = await callback(b, { code: request.code });
		await expectRefused(res, b, 'state_mismatch');
		expect(idp.state.tokenRequests).toHaveLength(0);
	});

	test('a state the app never issued is refused', async () => {
		const b = browser(app.url);
		idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
		const request = await begin(b);
		const res = await callback(b, { code: request.code, state: request.state + 'x' });
		await expectRefused(res, b, 'state_mismatch');
	});
});

describe('what the provider says back', () => {
	test("the provider's error is a token_exchange_failed banner and its text is not reflected", async () => {
		const b = browser(app.url);
		const request = await begin(b);
		const description = '<script>alert("owned")</script>';
		const res = await callback(b, {
			error: 'access_denied',
			error_description: description,
			state: request.state
		});
		await expectRefused(res, b, 'token_exchange_failed');
		const location = res.headers.get('location') ?? '';
		for (const raw of [
			'script',
			'alert',
			'owned',
			'access_denied',
			encodeURIComponent(description)
		])
			expect(location).not.toContain(raw);
		expect(idp.state.tokenRequests).toHaveLength(0);
		const page = await (await b.get(location)).text();
		expect(page).not.toContain('alert("owned")');
	});

	test('an unknown subject is not_linked and its sub is logged for linking', async () => {
		const sub = `stranger-${Date.now()}`;
		const { res, b } = await signInWith(good({ sub, preferred_username: 'alice' }));
		await expectRefused(res, b, 'not_linked');
		expect(await waitForLog(`OIDC login rejected: no linked account for sub=${sub}`)).toBe(true);
	});

	test('a subject with a line break cannot forge a log line', async () => {
		const sub = `evil-${Date.now()}\n2030-01-01T00:00:00.000Z INFO forged`;
		const { res, b } = await signInWith(good({ sub }));
		await expectRefused(res, b, 'not_linked');
		const escaped = sub.replace('\n', '\\x0a');
		expect(await waitForLog(`no linked account for sub=${escaped}`)).toBe(true);
		expect(app.logs()).not.toContain(sub);
	});
});

describe('several instances', () => {
	test('a second instance on the same database finishes a sign-in the first one started', async () => {
		const second = await startServer({
			databaseUrl: app.databaseUrl,
			env: { SECRET_KEY, ORIGIN }
		});
		try {
			const first = browser(app.url);
			idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
			const request = await begin(first);
			const b = browser(second.url);
			for (const [k, v] of first.jar) b.jar.set(k, v);
			const res = await callback(b, { code: request.code, state: request.state });
			await expectSignedIn(res, b);
			expect(idp.state.tokenRequests[0].pkceVerified).toBe(true);
		} finally {
			await second.stop();
		}
	});

	test('an instance with another SECRET_KEY cannot read the sign-in: state_mismatch, not an error', async () => {
		// Such an instance refuses to start on this database (instance.ts), so it gets a database
		// of its own, set up the same way, with the client secret sealed under its key.
		const OTHER_KEY = 'not the same key';
		const db = await freshDatabase();
		const otherAdmin = await insertAdmin(db.sql);
		await db.sql`
			update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
				"oidcClientId" = ${CLIENT_ID},
				"oidcClientSecret" = ${seal(CLIENT_SECRET, loadKey({ SECRET_KEY: OTHER_KEY }))},
				"ssoEnabled" = true
			where id = 1
		`;
		await db.sql`
			update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${idp.issuer}, "ssoSubject" = 'alice'
			where id = ${otherAdmin}
		`;
		const other = await startServer({
			databaseUrl: db.url,
			env: { SECRET_KEY: OTHER_KEY, ORIGIN }
		});
		try {
			const first = browser(app.url);
			idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
			const request = await begin(first);
			const b = browser(other.url);
			for (const [k, v] of first.jar) b.jar.set(k, v);
			await expectRefused(
				await callback(b, { code: request.code, state: request.state }),
				b,
				'state_mismatch'
			);
			expect(idp.state.tokenRequests).toHaveLength(0);
		} finally {
			await other.stop();
			await db.sql.end();
		}
	});
});

// jose refetches the JWKS for an unknown kid only when the last fetch is older than the cooldown
// (30 s in oidc-discovery.ts; this file's server runs with OIDC_JWKS_COOLDOWN_MS shortening it).
// A saved configuration drops the cached key set, so inside this block the configuration version
// stays put: the key set loaded in beforeAll is the one that ages past the cooldown.
describe('JWKS refetch', () => {
	const AGING = '/jwks-aging';
	const ageKeySet = () => new Promise((r) => setTimeout(r, JWKS_COOLDOWN_MS + 500));

	beforeAll(async () => {
		idp.reset();
		await app.sql`delete from "Session"`;
		idp.state.jwks.set(AGING, [idp.primary.publicJwk]);
		await configure({}, AGING);
		const { res, b } = await signInWith(good());
		await expectSignedIn(res, b);
		expect(idp.jwksHits(AGING)).toBe(1);
		keepConfigVersion = true;
		await ageKeySet();
	}, 90_000);
	afterAll(() => {
		keepConfigVersion = false;
	});

	test('a kid unknown even after one refetch is refused, and not refetched again at once', async () => {
		idp.state.jwks.set(AGING, [idp.primary.publicJwk]);
		const ghost = await makeKey('ghost');
		const once = await signInWith((nonce) => idp.sign(idp.claims(nonce), ghost));
		await expectRefused(once.res, once.b, 'token_exchange_failed');
		expect(idp.jwksHits(AGING)).toBe(1);
		const twice = await signInWith((nonce) => idp.sign(idp.claims(nonce), ghost));
		await expectRefused(twice.res, twice.b, 'token_exchange_failed');
		expect(idp.jwksHits(AGING)).toBe(1);
	});

	test('a kid that appears only after rotation is accepted after one refetch', async () => {
		await ageKeySet(); // the test above refetched the set
		const rotated = await makeKey('key-2');
		idp.state.jwks.set(AGING, [idp.primary.publicJwk, rotated.publicJwk]);
		const { res, b } = await signInWith((nonce) => idp.sign(idp.claims(nonce), rotated));
		await expectSignedIn(res, b);
		expect(idp.jwksHits(AGING)).toBe(1);
	}, 60_000);
});
