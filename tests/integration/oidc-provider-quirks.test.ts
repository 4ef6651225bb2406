// Whole sign-ins against oidc-provider configured like providers that leave the textbook path:
// one that accepts the client secret only in the form body (client_secret_post), one that signs
// ID tokens with ES256, one that answers userinfo as a signed JWT (application/jwt, as Authelia
// does with userinfo_signed_response_alg). The test walks the provider's own login and consent
// pages as a browser would, then hands the code to the app.
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { startIdp, USERS } from '../helpers/idp.js';
import { throughProvider } from '../helpers/idp-login';

const SECRET_KEY = 'oidc-provider-quirks-key';
const SESSION_COOKIE = 'librariarr_session';
// The app's public origin: the provider sends the browser back there, and the test takes the
// path and query of that address to the app itself.
const ORIGIN = 'http://librariarr.test';
// Subject and username differ, so a session named after the username got it from the provider.
const ADA = USERS.uuid;
// The characters the issue names, plus a space: all need form-encoding somewhere.
const SECRET = 'post~secret:with%25+plus/slash=equals and space';

let app: App;
let idp: Awaited<ReturnType<typeof startIdp>>;
let adminId: number;

beforeAll(async () => {
	const rsa = await generateKeyPair('RS256', { extractable: true });
	const ec = await generateKeyPair('ES256', { extractable: true });
	const signing = {
		client_secret: SECRET,
		token_endpoint_auth_method: 'client_secret_post' as const
	};
	idp = await startIdp({
		redirectUris: [`${ORIGIN}/api/auth/sso/oidc/callback`],
		clients: [
			{ client_id: 'post-only', ...signing },
			{ client_id: 'es256', ...signing, id_token_signed_response_alg: 'ES256' },
			{ client_id: 'signed-userinfo', ...signing, userinfo_signed_response_alg: 'RS256' }
		],
		refuseBasic: true,
		config: {
			// Like providers that offer no HTTP Basic at the token endpoint.
			clientAuthMethods: ['client_secret_post', 'none'],
			jwks: {
				keys: [
					{ ...(await exportJWK(rsa.privateKey)), kid: 'rsa', alg: 'RS256', use: 'sig' },
					{ ...(await exportJWK(ec.privateKey)), kid: 'ec', alg: 'ES256', use: 'sig' }
				]
			},
			features: { jwtUserinfo: { enabled: true } }
		}
	});
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
});

async function useClient(clientId: string) {
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
			"oidcClientId" = ${clientId}, "oidcClientSecret" = ${seal(SECRET, loadKey({ SECRET_KEY }))},
			"oidcClientAuthMethod" = 'auto', "ssoEnabled" = true,
			"ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
}

async function signIn() {
	const b = browser(app.url);
	const start = await b.get('/api/auth/sso/oidc/login');
	expect(start.status).toBe(303);
	const back = new URL(await throughProvider(idp.issuer, start.headers.get('location')!, ADA.sub));
	expect(back.origin).toBe(ORIGIN);
	expect(back.searchParams.get('code')).toBeTruthy();
	const res = await b.get(back.pathname + back.search);
	return { res, b };
}

async function expectSignedIn({ res, b }: { res: Response; b: ReturnType<typeof browser> }) {
	expect(res.headers.get('location')).toBe('/');
	expect(b.jar.has(SESSION_COOKIE)).toBe(true);
	const rows = await app.sql`select "userId", "displayName" from "Session"`;
	expect(rows).toHaveLength(1);
	expect(rows[0].userId).toBe(adminId);
	return rows[0];
}

describe('oidc-provider shaped like other providers', () => {
	test('a provider that lists only client_secret_post gets the secret in the body and signs in', async () => {
		await useClient('post-only');
		await expectSignedIn(await signIn());
	});

	test('a provider signing ID tokens with ES256 signs in', async () => {
		await useClient('es256');
		await expectSignedIn(await signIn());
	});

	test('a signed userinfo (application/jwt) is verified and names the session', async () => {
		await useClient('signed-userinfo');
		const row = await expectSignedIn(await signIn());
		// oidc-provider keeps profile claims out of the ID token when an access token is issued,
		// so this name (the `name` claim, which the display name prefers) can only have come from
		// the signed userinfo.
		expect(row.displayName).toBe(ADA.name);
		const userinfo = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
		const doc = await userinfo.json();
		expect(doc.userinfo_signing_alg_values_supported).toContain('RS256');
		expect(doc.token_endpoint_auth_methods_supported).toEqual(['client_secret_post', 'none']);
	});
});
