// /healthz?detail=1: with METRICS_TOKEN as a bearer, the provider's health beside the database's
// (oidc-provider as the provider, tests/helpers/idp.js); /healthz itself answers as it always did.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { insertAdmin, startApp, type App } from '../helpers/app';
import { startIdp } from '../helpers/idp.js';

const TOKEN = 'healthz-detail-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let app: App;
let idp: Awaited<ReturnType<typeof startIdp>>;

beforeAll(async () => {
	idp = await startIdp({ redirectUris: ['http://librariarr.test/api/auth/sso/oidc/callback'] });
	app = await startApp({ METRICS_TOKEN: TOKEN });
	await insertAdmin(app.sql);
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
});

const detail = (headers: Record<string, string> = auth) =>
	fetch(`${app.url}/healthz?detail=1`, { headers });

/** Points SSO at an issuer, on or off, and moves the configuration version (drops caches). */
async function useIssuer(issuer: string, on = true) {
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${issuer},
			"oidcClientId" = 'librariarr', "ssoEnabled" = ${on},
			"ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1`;
}

test('/healthz is unchanged, and its detail needs the token', async () => {
	const plain = await fetch(`${app.url}/healthz`);
	expect(plain.status).toBe(200);
	expect(await plain.json()).toEqual({ status: 'ok' });
	const refused: Record<string, string>[] = [
		{},
		{ authorization: 'Bearer not-the-token-at-all-000000' }
	];
	for (const headers of refused) {
		const res = await detail(headers);
		expect(res.status).toBe(401);
		const body = await res.json();
		expect(body.status).toBe('unauthorized');
		expect(JSON.stringify(body)).not.toContain('provider');
	}
	// SSO neither on nor set up: nothing to say about a provider.
	const none = await detail();
	expect(none.status).toBe(200);
	expect(await none.json()).toEqual({ status: 'ok', provider: null });
});

test('a provider that answers: a sign-in would work; its discovery and keys were reached', async () => {
	await useIssuer(idp.issuer);
	const res = await detail();
	expect(res.status).toBe(200);
	const { status, provider } = await res.json();
	expect(status).toBe('ok');
	expect(provider).toMatchObject({
		mode: 'oidc',
		ssoEnabled: true,
		signInWouldWork: true,
		why: null
	});
	expect(Date.parse(provider.discovery.lastSuccess.at)).toBeGreaterThan(Date.now() - 60_000);
	expect(Date.parse(provider.keys.lastSuccess.at)).toBeGreaterThan(Date.now() - 60_000);
	expect(provider.clock.withinLimit).toBe(true);
	expect(Math.abs(provider.clock.offsetSeconds)).toBeLessThanOrEqual(2);
});

test('a provider that is gone: would not work, says why, and keeps when it last worked', async () => {
	await useIssuer('http://127.0.0.1:9/gone');
	const res = await detail();
	expect(res.status).toBe(200);
	const { provider } = await res.json();
	expect(provider.signInWouldWork).toBe(false);
	expect(provider.why).toMatch(/^discovery failed: /);
	expect(provider.discovery.lastFailure.message.length).toBeGreaterThan(0);
	expect(Date.parse(provider.discovery.lastFailure.at)).toBeGreaterThanOrEqual(
		Date.parse(provider.discovery.lastSuccess.at)
	);
});

test('SSO off: the provider is still checked, and the answer says sign-in is off', async () => {
	await useIssuer(idp.issuer, false);
	const { provider } = await (await detail()).json();
	expect(provider).toMatchObject({ signInWouldWork: false, why: 'single sign-on is off' });
});
