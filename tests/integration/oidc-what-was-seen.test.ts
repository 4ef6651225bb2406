// Test Discovery says what applies, from what sign-ins saw (issue 24), against oidc-provider
// (tests/helpers/idp.js): the algorithm of the first ID token that verified instead of every
// algorithm listed, and HMAC only when a token was signed so; the username claim judged by what
// the ID token and userinfo sent, not by a partial claims_supported; the client authentication
// negotiation learnt. And step 2 after a failed Verify & Link shows the failure's own words.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App, signedIn } from '../helpers/app';
import { QUIRK_CLIENTS, RAW_BASIC_SECRET, startIdp, USERS } from '../helpers/idp.js';
import { throughProvider } from '../helpers/idp-login';

const SECRET_KEY = 'oidc-what-was-seen-key';
const ORIGIN = 'http://librariarr.test';
const SETTINGS = '/settings/authentication';
const ADA = USERS.uuid;
/** A client whose ID tokens the provider signs with HS256 (keyed with this secret). */
const HMAC_CLIENT = 'librariarr-hmac';
const HMAC_SECRET = 'an-hmac-client-secret-of-more-than-32-bytes';
const RS_CLIENT = 'librariarr-rs256';
const RS_SECRET = 'a-plain-secret-for-the-rs256-client';

let app: App;
let idp: Awaited<ReturnType<typeof startIdp>>;
let adminId: number;
/** Fields that replace the provider's discovery document's own. */
const discovery: Record<string, unknown> = {};

beforeAll(async () => {
	idp = await startIdp({
		redirectUris: [`${ORIGIN}/api/auth/sso/oidc/callback`],
		clients: [
			{
				client_id: HMAC_CLIENT,
				client_secret: HMAC_SECRET,
				token_endpoint_auth_method: 'client_secret_basic',
				id_token_signed_response_alg: 'HS256'
			},
			{
				client_id: RS_CLIENT,
				client_secret: RS_SECRET,
				token_endpoint_auth_method: 'client_secret_basic'
			}
		],
		// The provider can sign with HMAC as well, and lists it (as real ones do).
		config: { enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] } },
		discovery
	});
	app = await startApp({ SECRET_KEY, ORIGIN });
	adminId = await insertAdmin(app.sql);
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
});
beforeEach(async () => {
	for (const key of Object.keys(discovery)) delete discovery[key];
	await app.sql`delete from "AuditEvent"`;
	await app.sql`
		update "User" set "ssoProvider" = null, "ssoIssuer" = null, "ssoSubject" = null
		where id = ${adminId}
	`;
});

/** Saves a connection as the database would hold it after step 1 (nothing seen, nothing learnt). */
async function useClient(clientId: string, secret: string, usernameClaim = 'preferred_username') {
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
			"oidcClientId" = ${clientId}, "oidcClientSecret" = ${seal(secret, loadKey({ SECRET_KEY }))},
			"oidcClientAuthMethod" = 'auto', "oidcUsernameClaim" = ${usernameClaim},
			"ssoEnabled" = false, "localAuthEnabled" = true, "oidcClientAuthLearnt" = null,
			"oidcSeenIssuer" = null, "oidcSeenClientId" = null, "oidcSeenIdTokenAlg" = null,
			"oidcSeenUsernameClaim" = null, "oidcSeenUsernameClaimFrom" = null,
			"previousSsoConfig" = null, "ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
}

type Browser = ReturnType<typeof browser>;

async function admin() {
	return signedIn(app.url, { origin: ORIGIN });
}

/** Verify & Link through the provider; returns where the app sent the browser back to. */
async function verifyAndLink(b: Browser) {
	const start = await b.post(`${SETTINGS}?/verifyLink`, {}, { origin: ORIGIN });
	expect(start.status).toBe(303);
	const back = new URL(await throughProvider(idp.issuer, start.headers.get('location')!, ADA.sub));
	const res = await b.get(back.pathname + back.search);
	return res.headers.get('location');
}

/** Step 1's form as a browser sends it. */
const form = (over: Record<string, string> = {}) => ({
	ssoMode: 'OIDC',
	oidcIssuer: idp.issuer,
	oidcClientId: RS_CLIENT,
	oidcClientSecret: '',
	oidcClientAuthMethod: 'auto',
	oidcScopes: 'openid profile email',
	oidcUsernameClaim: 'preferred_username',
	forwardAuthUserHeader: 'Remote-User',
	forwardAuthEmailHeader: 'Remote-Email',
	forwardAuthNameHeader: 'Remote-Name',
	...over
});

/** The visible text of a page, without tags (facts span <dt> and <dd>). */
const text = (html: string) =>
	html
		.replace(/<[^>]+>/g, ' ')
		.replace(/&#39;|&rsquo;/g, "'")
		.replace(/&amp;/g, '&')
		.replace(/&quot;/g, '"')
		.replace(/\s+/g, ' ');

/** Test Discovery without JavaScript: the page it answers, as text, and whether it warned. */
async function testDiscovery(b: Browser, over: Record<string, string> = {}) {
	const res = await b.post(`${SETTINGS}?/testDiscovery`, form(over), { origin: ORIGIN });
	expect(res.status).toBe(200);
	const html = await res.text();
	expect(html).toContain('Discovery succeeded.');
	return { page: text(html), warned: html.includes('data-testid="discovery-warnings"') };
}

const seen = async () =>
	(
		await app.sql`
			select "oidcSeenIdTokenAlg" as alg, "oidcSeenUsernameClaim" as claim,
				"oidcSeenUsernameClaimFrom" as "from"
			from "AppSettings"
		`
	)[0];

describe('the ID token signing algorithm', () => {
	test('the first ID token that verified is named; the listed HS256 is not warned about', async () => {
		await useClient(RS_CLIENT, RS_SECRET);
		const b = await admin();
		const before = await testDiscovery(b);
		expect(before.page).toContain('ID token signing algorithms HS256, RS256');
		expect(before.page).toContain(
			'ID token signing algorithm in use not seen yet: the first sign-in or Verify & Link shows it'
		);
		expect(before.warned).toBe(false);

		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		expect(await seen()).toMatchObject({ alg: 'RS256' });
		const after = await testDiscovery(b);
		expect(after.page).toContain(
			'ID token signing algorithm in use RS256 (the first ID token that verified)'
		);
		expect(after.warned).toBe(false);
	});

	test('a client whose tokens are HMAC-signed: Verify & Link fails, then Test Discovery names the setting; another client forgets it', async () => {
		await useClient(HMAC_CLIENT, HMAC_SECRET);
		const b = await admin();
		// The list holds RS256, which Librariarr accepts: nothing to warn about before a token.
		expect((await testDiscovery(b, { oidcClientId: HMAC_CLIENT })).warned).toBe(false);

		const back = await verifyAndLink(b);
		expect(back).toBe(`${SETTINGS}?sso_link_error=token_exchange_failed#sso`);
		expect(await seen()).toMatchObject({ alg: 'HS256' });
		// Step 2 says why, in the sign-in's own words.
		const settings = text(await (await b.get(back!)).text());
		expect(settings).toContain('What happened: ID token rejected (ERR_JOSE_ALG_NOT_ALLOWED');
		expect(settings).toContain('often id_token_signed_response_alg');

		const after = await testDiscovery(b, { oidcClientId: HMAC_CLIENT });
		expect(after.warned).toBe(true);
		expect(after.page).toContain(
			"The provider's last ID token was signed with HS256, which Librariarr refuses (HMAC and none are never accepted). Set the client's ID token signing algorithm at the provider (often id_token_signed_response_alg) to RS256, PS256, ES256 or EdDSA."
		);
		expect(after.page).toContain('HS256 (the last ID token, refused for it)');
		// The form naming another client than the saved one: what was seen does not apply to it.
		expect((await testDiscovery(b, { oidcClientId: RS_CLIENT })).warned).toBe(false);

		// Saving another client id forgets what was seen.
		const saved = await b.post(
			`${SETTINGS}?/saveConnection`,
			form({ oidcClientId: RS_CLIENT, oidcClientSecret: RS_SECRET }),
			{ origin: ORIGIN }
		);
		expect(saved.status).toBe(200);
		expect(await seen()).toMatchObject({ alg: null, claim: null, from: null });
		// Fixed at the provider (here: the other client), the first verified token replaces it.
		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		expect(await seen()).toMatchObject({ alg: 'RS256' });
	});
});

describe('the username claim', () => {
	test('a partial claims_supported is not warned about; Verify & Link that saw the claim from userinfo settles it', async () => {
		// Like the second provider of the issue: preferred_username comes from userinfo only
		// (oidc-provider keeps scope claims out of the ID token when it issues an access token),
		// and claims_supported leaves it out.
		discovery.claims_supported = ['sub', 'email'];
		await useClient(RS_CLIENT, RS_SECRET);
		const b = await admin();
		const before = await testDiscovery(b);
		expect(before.warned).toBe(false);
		expect(before.page).toContain(
			'Username claim preferred_username not seen yet: the first sign-in or Verify & Link checks the ID token and userinfo'
		);
		expect(before.page).not.toContain('does not list the claim');

		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		expect(await seen()).toMatchObject({ claim: 'preferred_username', from: 'userinfo' });
		const after = await testDiscovery(b);
		expect(after.warned).toBe(false);
		expect(after.page).toContain(
			'Username claim preferred_username sent by userinfo (seen at the last sign-in)'
		);
	});

	test('a claim the provider never sends is warned about once a sign-in saw it missing, not before', async () => {
		await useClient(RS_CLIENT, RS_SECRET, 'nickname');
		const b = await admin();
		expect((await testDiscovery(b, { oidcUsernameClaim: 'nickname' })).warned).toBe(false);

		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		expect(await seen()).toMatchObject({ claim: 'nickname', from: 'missing' });
		const after = await testDiscovery(b, { oidcUsernameClaim: 'nickname' });
		expect(after.warned).toBe(true);
		expect(after.page).toContain(
			'At the last sign-in the provider sent no nickname, neither in the ID token nor from userinfo'
		);
		// Another claim typed in the form: what was seen was about nickname only.
		expect((await testDiscovery(b, { oidcUsernameClaim: 'email' })).warned).toBe(false);
	});
});

describe('client authentication learnt from the provider', () => {
	test('Test Discovery shows the learnt variant while the form names the saved client', async () => {
		await useClient(QUIRK_CLIENTS.rawBasic, RAW_BASIC_SECRET);
		const b = await admin();
		const over = { oidcClientId: QUIRK_CLIENTS.rawBasic };
		expect((await testDiscovery(b, over)).page).not.toContain('Learnt from the provider');

		// Verify & Link negotiates: the encoded secret refused, the raw one accepted and learnt.
		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		const [row] = await app.sql`select "oidcClientAuthLearnt" from "AppSettings"`;
		expect(row.oidcClientAuthLearnt).toBe('basic-raw');

		const { page } = await testDiscovery(b, over);
		expect(page).toContain(
			'Client authentication used HTTP Basic, id and secret sent as they are (client_secret_basic, not form-encoded), learnt from the provider'
		);
		expect(page).toContain(
			'Learnt from the provider Your provider compares the client secret without decoding it, so Librariarr sends it in HTTP Basic as it is'
		);
		// The enhanced form (JavaScript on) gets the same report as JSON.
		const enhanced = await b.post(`${SETTINGS}?/testDiscovery`, form(over), {
			origin: ORIGIN,
			headers: { 'x-sveltekit-action': 'true', accept: 'application/json' }
		});
		const json = JSON.stringify(await enhanced.json());
		expect(json).toContain('Learnt from the provider');
		expect(json).toContain('Your provider compares the client secret without decoding it');
		// Another client id, or another method, in the form: not what was learnt.
		const other = await testDiscovery(b, { oidcClientId: QUIRK_CLIENTS.postOnly });
		expect(other.page).not.toContain('Learnt from the provider');
		const forced = await testDiscovery(b, { ...over, oidcClientAuthMethod: 'client_secret_post' });
		expect(forced.page).not.toContain('Learnt from the provider');
	});
});

describe('step 2 after a failed Verify & Link', () => {
	test("shows the token endpoint's refusal: step, status, the provider's words and a hint", async () => {
		await useClient(QUIRK_CLIENTS.rawBasic, 'not+the/secret=');
		const b = await admin();
		const back = await verifyAndLink(b);
		expect(back).toBe(`${SETTINGS}?sso_link_error=token_exchange_failed#sso`);
		const page = text(await (await b.get(back!)).text());
		expect(page).toContain('Your identity provider could not be verified.');
		expect(page).toContain(
			`What happened: Token exchange at ${idp.issuer}/token failed: HTTP 401: invalid_client (“client_secret_basic only”); the provider refused the client with every variant tried (basic, basic-raw, post). The provider refused this client ID and secret every way it was sent: check them at the provider; Check client credentials in step 1 shows each way.`
		);
		expect(page).not.toContain('not+the/secret=');

		// Words come from the trail, never from the address; and only the user's own.
		const plain = await (await b.get(SETTINGS)).text();
		expect(plain).not.toContain('data-testid="link-error-detail"');
		await app.sql`update "AuditEvent" set "userId" = null where event = 'sso.link_failed'`;
		const other = await (await b.get(back!)).text();
		expect(other).toContain('Your identity provider could not be verified.');
		expect(other).not.toContain('data-testid="link-error-detail"');
	});
});
