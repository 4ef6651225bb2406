// "Download diagnostics" (issue 24, point 4): the support bundle holds what a bug report needs and
// none of the secrets the app knows. Known secrets are planted everywhere they can live (the OIDC
// client secret, a session cookie, a TOTP secret, a Plex token, an SSO subject, an ID token kept
// for a session, a failed flow's audit row), a real failed sign-in against oidc-provider is
// recorded, and then the bundle is read as a signed-in admin: every expected field is there and no
// secret is, in clear or sealed. Signed out, there is no bundle.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { QUIRK_CLIENTS, startIdp, USERS } from '../helpers/idp.js';
import { throughProvider } from '../helpers/idp-login';

const SECRET_KEY = 'support-bundle-key';
const SESSION_COOKIE = 'librariarr_session';
const ORIGIN = 'http://librariarr.test';
const BUNDLE = '/settings/authentication/diagnostics';

// Wrong for the provider on purpose, so that a sign-in fails at the token endpoint.
const CLIENT_SECRET = 'known+client/secret=for~the-bundle';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPKNOWNTOTP';
const PLEX_TOKEN = 'known-plex-token-0123456789';
const ID_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.known-id-token-payload.known-id-token-signature';
const SUBJECT = USERS.uuid.sub;
const LEAKED_CODE = 'known-authorization-code-abcdef';

let app: App;
let idp: Awaited<ReturnType<typeof startIdp>>;
const key = () => loadKey({ SECRET_KEY });
const sealedSecret = { value: '' };

beforeAll(async () => {
	idp = await startIdp({ redirectUris: [`${ORIGIN}/api/auth/sso/oidc/callback`] });
	app = await startApp({ SECRET_KEY, ORIGIN });
	const adminId = await insertAdmin(app.sql);
	sealedSecret.value = seal(CLIENT_SECRET, key());
	await app.sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${idp.issuer}, "ssoSubject" = ${SUBJECT},
			"totpSecret" = ${seal(TOTP_SECRET, key())}, "plexId" = 'plex-1', "plexUsername" = 'ada',
			"plexToken" = ${seal(PLEX_TOKEN, key())}
		where id = ${adminId}
	`;
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
			"oidcClientId" = ${QUIRK_CLIENTS.rawBasic}, "oidcClientSecret" = ${sealedSecret.value},
			"oidcClientAuthMethod" = 'auto', "ssoEnabled" = true, "localAuthEnabled" = true,
			"ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
});

/** A real sign-in that the provider refuses at the token endpoint (the secret is wrong). */
async function failedSignIn() {
	const b = browser(app.url);
	const start = await b.get('/api/auth/sso/oidc/login');
	expect(start.status).toBe(303);
	const back = new URL(await throughProvider(idp.issuer, start.headers.get('location')!, SUBJECT));
	const res = await b.get(back.pathname + back.search);
	expect(res.headers.get('location')).toBe('/login?sso_error=token_exchange_failed');
}

/** The admin signed in with the password (no TOTP check: the secret is planted after the fact). */
async function admin() {
	await app.sql`update "AppSettings" set "ssoEnabled" = false`;
	await app.sql`update "User" set "totpSecret" = null`;
	const b = browser(app.url);
	const res = await b.post(
		'/login',
		{ username: 'admin', password: 'correct horse battery' },
		{ origin: ORIGIN }
	);
	expect(res.status).toBe(303);
	await app.sql`update "User" set "totpSecret" = ${seal(TOTP_SECRET, key())}`;
	await app.sql`update "Session" set "oidcIdToken" = ${ID_TOKEN}`;
	return b;
}

describe('Download diagnostics', () => {
	test('holds the expected fields and none of the known secrets', async () => {
		await failedSignIn();
		// A not-linked refusal keeps the subject in the audit trail; a stray key must not pass.
		await app.sql`
			insert into "AuditEvent" (event, method, ip, detail)
			values ('login.failed', 'oidc', '203.0.113.9',
				${app.sql.json({ reason: 'not_linked', subject: SUBJECT, code: LEAKED_CODE })})
		`;
		const b = await admin();
		const cookie = b.jar.get(SESSION_COOKIE)!;
		expect(cookie).toBeTruthy();

		const res = await b.get(BUNDLE);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-disposition')).toMatch(
			/^attachment; filename="librariarr-diagnostics-\d{4}-\d{2}-\d{2}\.json"$/
		);
		expect(res.headers.get('cache-control')).toBe('no-store');
		expect(res.headers.get('content-type')).toMatch(/^application\/json/);
		const body = await res.text();

		for (const secret of [
			CLIENT_SECRET,
			encodeURIComponent(CLIENT_SECRET),
			sealedSecret.value,
			cookie,
			TOTP_SECRET,
			PLEX_TOKEN,
			ID_TOKEN,
			SUBJECT,
			LEAKED_CODE
		]) {
			expect(body.includes(secret), `the bundle holds ${secret}`).toBe(false);
		}

		const bundle = JSON.parse(body);
		expect(bundle.app.version).toMatch(/^\d+\.\d+\.\d+/);
		expect(bundle.sso).toMatchObject({
			mode: 'OIDC',
			issuer: idp.issuer,
			clientId: QUIRK_CLIENTS.rawBasic,
			// The sign-ins here fail at the token endpoint: no ID token was seen.
			seen: { idTokenAlg: null, usernameClaim: null }
		});
		expect(bundle.provider.discovery.issuer).toBe(idp.issuer);
		expect(bundle.provider.discovery.token_endpoint).toBe(`${idp.issuer}/token`);
		expect(bundle.provider.jwks.count).toBeGreaterThan(0);
		for (const k of bundle.provider.jwks.keys) {
			expect(typeof k.kid).toBe('string');
			// descriptors only: no key material
			expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use']);
		}
		expect(body).not.toMatch(/"(n|e|d|x|y|k)":/);
		expect(bundle.clientAuth).toMatchObject({ setting: 'auto', secretSet: true });
		expect(bundle.clientAuth.tried).toEqual(['basic', 'basic-raw', 'post']);
		expect(bundle.redirectUri).toMatchObject({
			value: `${ORIGIN}/api/auth/sso/oidc/callback`,
			derivedFrom: 'ORIGIN'
		});
		expect(bundle.cookies.session).toEqual({
			name: SESSION_COOKIE,
			path: '/',
			httpOnly: true,
			sameSite: 'Lax',
			secure: false
		});
		// Measured at discovery and the token requests: the same machine, so no words.
		expect(Math.abs(bundle.clock.offsetSeconds)).toBeLessThanOrEqual(2);
		expect(bundle.clock.words).toBeNull();

		const flows = bundle.failedSignIns;
		expect(flows.length).toBeGreaterThanOrEqual(2);
		expect(flows.length).toBeLessThanOrEqual(10);
		const exchange = flows.find((f: { step: string }) => f.step === 'token_exchange_failed');
		expect(exchange.providerError).toContain('invalid_client');
		const notLinked = flows.find((f: { step: string }) => f.step === 'not_linked');
		expect(notLinked.subject).toMatch(/^sha256:[0-9a-f]{12}$/);
	});

	test('lists at most ten failed flows', async () => {
		await app.sql`
			insert into "AuditEvent" (event, method, detail)
			select 'login.failed', 'oidc', ${app.sql.json({ reason: 'state_mismatch' })}
			from generate_series(1, 15)
		`;
		const b = await admin();
		const bundle = await (await b.get(BUNDLE)).json();
		expect(bundle.failedSignIns).toHaveLength(10);
	});

	test('signed out, there is no bundle', async () => {
		const res = await browser(app.url).get(BUNDLE);
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toMatch(/^\/login/);
		expect(res.headers.get('content-disposition')).toBeNull();
		expect(await res.text()).not.toContain('librariarr-diagnostics');
	});
});
