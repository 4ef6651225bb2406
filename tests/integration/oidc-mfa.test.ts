// "Require two-factor for SSO sign-ins" (issue 29, part 3) against oidc-provider
// (tests/helpers/idp.js), whose sign-ins carry the amr, acr and auth_time each test gives them:
// an ID token that proves MFA signs in at once; one that does not (no amr, a password only, a
// stale auth_time) waits for the authenticator code at /login/code and then becomes the OIDC
// session it would have been; without a second factor here the sign-in is refused with
// mfa_required, audited. Turning the setting on, or SSO on with it, is refused when it would lock
// the admin out; hostile form input is refused with words and changes nothing.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { CONFIDENTIAL_SECRET, startIdp, USERS } from '../helpers/idp.js';
import { throughProvider } from '../helpers/idp-login';

const SECRET_KEY = 'oidc-mfa-key';
const ORIGIN = 'http://librariarr.test';
const SETTINGS = '/settings/authentication';
const ADA = USERS.uuid;
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

let app: App;
let idp: Awaited<ReturnType<typeof startIdp>>;
let adminId: number;
/** How Ada signs in at the provider; each test sets it. */
const signIns: Record<string, { amr?: string[]; acr?: string; authTimeAgo?: number }> = {};

beforeAll(async () => {
	idp = await startIdp({ redirectUris: [`${ORIGIN}/api/auth/sso/oidc/callback`], signIns });
	app = await startApp({ SECRET_KEY, ORIGIN });
	adminId = await insertAdmin(app.sql);
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
});
beforeEach(async () => {
	signIns[ADA.sub] = {};
	await app.sql`delete from "AuditEvent"`;
	await app.sql`delete from "Session"`;
	await app.sql`delete from "PendingSignIn"`;
	await app.sql`delete from "Passkey"`;
	await app.sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${idp.issuer},
			"ssoSubject" = ${ADA.sub}, "ssoClaimsSeen" = null, "ssoClaimsSeenDigest" = null,
			"totpSecret" = null, "totpEnabledAt" = null, "totpLastStep" = null
		where id = ${adminId}
	`;
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
			"oidcClientId" = 'librariarr',
			"oidcClientSecret" = ${seal(CONFIDENTIAL_SECRET, loadKey({ SECRET_KEY }))},
			"ssoEnabled" = true, "localAuthEnabled" = true, "ssoMfaRequired" = true,
			"passkeyLoginEnabled" = true,
			"ssoMfaAmr" = '{mfa,otp,hwk,swk,fpt,sms}', "ssoMfaAcr" = '{}',
			"ssoMfaMaxAgeMinutes" = 720, "ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
});

type Browser = ReturnType<typeof browser>;

async function enrolTotp() {
	await app.sql`
		update "User" set "totpSecret" = ${seal(TOTP_SECRET, loadKey({ SECRET_KEY }))},
			"totpEnabledAt" = now()
		where id = ${adminId}
	`;
}

/** A passkey for this host (its key is never used here: only its being there counts). */
async function addPasskey() {
	const [row] = await app.sql<{ id: number }[]>`
		insert into "Passkey" ("userId", "credentialId", "publicKey", "rpId", name)
		values (${adminId}, 'cred-mfa-test', '\\x00', 'librariarr.test', 'Key') returning id
	`;
	return row.id;
}

const code = () =>
	generateHOTP(decodeBase32IgnorePadding(TOTP_SECRET), BigInt(Math.floor(Date.now() / 30_000)), 6);

/** An SSO sign-in in a fresh browser; where it ended, and the browser. */
async function ssoSignIn(b: Browser = browser(app.url)) {
	const start = await b.get('/api/auth/sso/oidc/login');
	expect(start.status).toBe(303);
	const back = new URL(await throughProvider(idp.issuer, start.headers.get('location')!, ADA.sub));
	const res = await b.get(back.pathname + back.search);
	return { location: res.headers.get('location'), b };
}

const text = (html: string) =>
	html
		.replace(/<[^>]+>/g, ' ')
		.replace(/&#39;|&rsquo;/g, "'")
		.replace(/&amp;/g, '&')
		.replace(/&quot;/g, '"')
		.replace(/\s+/g, ' ');

const oidcSessions = () => app.sql`select "ssoSubject" from "Session" where method = 'oidc'`;

describe('an OIDC sign-in with two-factor required', () => {
	test('amr proves MFA: signed in at once, no code asked', async () => {
		signIns[ADA.sub] = { amr: ['pwd', 'otp'] };
		const { location, b } = await ssoSignIn();
		expect(location).toBe('/');
		expect((await b.get('/settings/security')).status).toBe(200);
		expect(await oidcSessions()).toEqual([{ ssoSubject: ADA.sub }]);
	});

	test('an accepted acr proves it too', async () => {
		await app.sql`update "AppSettings" set "ssoMfaAcr" = '{gold}'`;
		signIns[ADA.sub] = { acr: 'gold' };
		expect((await ssoSignIn()).location).toBe('/');
	});

	test('without amr, TOTP enrolled: the code step, then the OIDC session', async () => {
		await enrolTotp();
		signIns[ADA.sub] = { amr: ['pwd'] };
		const { location, b } = await ssoSignIn();
		expect(location).toBe('/login/code');
		expect(await oidcSessions()).toHaveLength(0);
		expect((await b.get('/settings/security')).status).toBe(303);
		const page = text(await (await b.get('/login/code')).text());
		expect(page).toContain('Your identity provider signed you in without showing a second factor');
		const wrong = await b.post('/login/code?/totp', { code: '000000' }, { origin: ORIGIN });
		expect(wrong.status).toBe(400);
		const right = await b.post('/login/code?/totp', { code: code() }, { origin: ORIGIN });
		expect(right.status).toBe(303);
		expect(right.headers.get('location')).toBe('/');
		expect((await b.get('/settings/security')).status).toBe(200);
		// The session is the one the provider's sign-in would have made: OIDC, its subject, the ID
		// token kept for RP-initiated logout.
		const [session] = await app.sql`
			select method, "ssoSubject", "oidcIdToken" is not null as "hasIdToken" from "Session"
		`;
		expect(session).toEqual({ method: 'oidc', ssoSubject: ADA.sub, hasIdToken: true });
		const [ok] = await app.sql`
			select method from "AuditEvent" where event = 'login.succeeded'
		`;
		expect(ok.method).toBe('oidc');
		// Single use: the waiting sign-in is gone.
		expect(await app.sql`select 1 from "PendingSignIn"`).toHaveLength(0);
	});

	test('the code step belongs to the browser that signed in at the provider', async () => {
		await enrolTotp();
		const { location } = await ssoSignIn();
		expect(location).toBe('/login/code');
		const other = browser(app.url);
		const res = await other.post('/login/code?/totp', { code: code() }, { origin: ORIGIN });
		expect(res.status).toBe(400);
		expect(await app.sql`select 1 from "Session"`).toHaveLength(0);
	});

	test('a stale auth_time is no proof: the code is asked', async () => {
		await enrolTotp();
		signIns[ADA.sub] = { amr: ['mfa'], authTimeAgo: 13 * 3600 };
		expect((await ssoSignIn()).location).toBe('/login/code');
		// Within the age it counts.
		signIns[ADA.sub] = { amr: ['mfa'], authTimeAgo: 11 * 3600 };
		expect((await ssoSignIn()).location).toBe('/');
	});

	test('no proof and no second factor here: refused with words, audited, no session', async () => {
		signIns[ADA.sub] = { amr: ['pwd'] };
		const { location, b } = await ssoSignIn();
		expect(location).toBe('/login?sso_error=mfa_required');
		expect(await app.sql`select 1 from "Session"`).toHaveLength(0);
		expect(await app.sql`select 1 from "PendingSignIn"`).toHaveLength(0);
		const [row] = await app.sql`
			select "userId", method, detail from "AuditEvent"
			where event = 'login.failed' and detail->>'reason' = 'mfa_required'
		`;
		expect(row).toMatchObject({ userId: adminId, method: 'oidc' });
		expect(row.detail.error).toContain('[pwd]');
		const login = text(await (await b.get(location!)).text());
		expect(login).toContain('Two-factor is required for SSO sign-ins');
		expect(login).toContain('set up an authenticator app');
		// A stale proof without a second factor is refused the same way.
		signIns[ADA.sub] = { amr: ['mfa'], authTimeAgo: 24 * 3600 };
		expect((await ssoSignIn()).location).toBe('/login?sso_error=mfa_required');
	});

	test('the setting off: a sign-in without amr is accepted as before', async () => {
		await app.sql`update "AppSettings" set "ssoMfaRequired" = false`;
		expect((await ssoSignIn()).location).toBe('/');
	});
});

describe('the setting and the lock-out rule', () => {
	/** The admin signed in with the password (offered while SSO is off), SSO then back on. */
	async function admin() {
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const b = browser(app.url);
		const res = await b.post(
			'/login',
			{ username: 'admin', password: 'correct horse battery' },
			{ origin: ORIGIN }
		);
		expect(res.status).toBe(303);
		await app.sql`update "AppSettings" set "ssoEnabled" = true`;
		return b;
	}
	const save = (b: Browser, fields: Record<string, string>) =>
		b.post(
			`${SETTINGS}?/saveSsoMfa`,
			{ mfaAmr: 'mfa otp hwk swk fpt sms', mfaAcr: '', mfaMaxAgeMinutes: '720', ...fields },
			{ origin: ORIGIN }
		);
	const stored = async () =>
		(
			await app.sql`
				select "ssoMfaRequired" as on, "ssoMfaAmr" as amr, "ssoMfaMaxAgeMinutes" as age
				from "AppSettings"
			`
		)[0];

	test('turning it on while SSO is on: refused when the last sign-in showed no second factor and none is enrolled', async () => {
		await app.sql`update "AppSettings" set "ssoMfaRequired" = false`;
		signIns[ADA.sub] = { amr: ['pwd'] };
		await ssoSignIn(); // the admin's last sign-in: a password only
		const b = await admin();
		const refused = await save(b, { mfaRequired: 'on' });
		expect(refused.status).toBe(409);
		expect(text(await refused.text())).toContain('This would lock you out');
		expect((await stored()).on).toBe(false);
		// After a sign-in that showed a second factor, it is accepted.
		signIns[ADA.sub] = { amr: ['pwd', 'hwk'] };
		expect((await ssoSignIn()).location).toBe('/');
		const saved = await save(b, { mfaRequired: 'on' });
		expect(saved.status).toBe(200);
		expect(text(await saved.text())).toContain('Two-factor is now required for SSO sign-ins');
		expect((await stored()).on).toBe(true);
		const [audit] = await app.sql`select 1 from "AuditEvent" where event = 'settings.sso_mfa'`;
		expect(audit).toBeDefined();
	});

	test('an enrolled authenticator app is enough to turn it on', async () => {
		await app.sql`update "AppSettings" set "ssoMfaRequired" = false`;
		const b = await admin();
		await enrolTotp();
		expect((await save(b, { mfaRequired: 'on' })).status).toBe(200);
		expect((await stored()).on).toBe(true);
	});

	test('switching SSO on with it set is refused the same way', async () => {
		const b = await admin();
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		const res = await b.post(`${SETTINGS}?/saveSso`, { ssoEnabled: 'on' }, { origin: ORIGIN });
		expect(res.status).toBe(409);
		expect(text(await res.text())).toContain('This would lock you out');
		expect((await app.sql`select "ssoEnabled" from "AppSettings"`)[0].ssoEnabled).toBe(false);
	});

	test('turning the authenticator app off is refused while it is the only second factor SSO sign-ins can use', async () => {
		const b = await admin();
		await enrolTotp();
		const off = () =>
			b.post(
				'/settings/security?/totpDisable',
				{ currentPassword: 'correct horse battery', code: code() },
				{ origin: ORIGIN }
			);
		const totpOn = async () =>
			(await app.sql`select "totpSecret" is not null as on from "User" where id = ${adminId}`)[0]
				.on;
		const refused = await off();
		expect(refused.status).toBe(409);
		expect(text(await refused.text())).toContain('The authenticator app stays on');
		expect(await totpOn()).toBe(true);
		// Once the provider has shown a second factor, the app may go.
		signIns[ADA.sub] = { amr: ['otp'] };
		expect((await ssoSignIn()).location).toBe('/');
		await app.sql`update "User" set "totpLastStep" = null where id = ${adminId}`;
		expect((await off()).status).toBe(200);
		expect(await totpOn()).toBe(false);
	});

	test('a passkey is a second factor too: the code page offers it, and the last one stays', async () => {
		const b = await admin();
		const id = await addPasskey();
		// A sign-in without proof waits for the passkey (no authenticator app: no code form).
		const waiting = await ssoSignIn();
		expect(waiting.location).toBe('/login/code');
		const page = text(await (await waiting.b.get('/login/code')).text());
		expect(page).toContain('use your passkey');
		expect(page).not.toContain('Code from your app');
		// Deleting it is refused: SSO sign-ins would then be refused.
		const del = await b.post(
			'/settings/security?/deletePasskey',
			{ passkey: String(id) },
			{ origin: ORIGIN }
		);
		expect(del.status).toBe(409);
		expect(text(await del.text())).toContain('This passkey stays');
		expect(await app.sql`select 1 from "Passkey"`).toHaveLength(1);
		// With the authenticator app on, it may go.
		await enrolTotp();
		const again = await b.post(
			'/settings/security?/deletePasskey',
			{ passkey: String(id) },
			{ origin: ORIGIN }
		);
		expect(again.status).toBe(200);
		expect(await app.sql`select 1 from "Passkey"`).toHaveLength(0);
	});

	test('hostile form input: words, 400, nothing changed', async () => {
		await app.sql`update "AppSettings" set "ssoMfaRequired" = false`;
		const b = await admin();
		const before = await stored();
		const cases: [Record<string, string>, string][] = [
			[{ mfaMaxAgeMinutes: 'abc' }, 'whole number of minutes'],
			[{ mfaMaxAgeMinutes: '1' }, 'whole number of minutes'],
			[{ mfaMaxAgeMinutes: '99999999' }, 'whole number of minutes'],
			[{ mfaAmr: Array.from({ length: 21 }, (_, i) => `m${i}`).join(' ') }, 'at most 20'],
			[{ mfaAmr: 'x'.repeat(101) }, 'longer than 100'],
			[{ mfaAcr: 'a\u0000b' }, 'control characters'],
			[{ mfaRequired: 'on', mfaAmr: '', mfaAcr: '' }, 'at least one amr or acr'],
			[{ mfaAmr: 'y'.repeat(5000) }, 'longer than 100']
		];
		for (const [fields, words] of cases) {
			const res = await save(b, fields);
			expect(res.status, JSON.stringify(fields).slice(0, 80)).toBe(400);
			expect(text(await res.text())).toContain(words);
		}
		// A body past the form limit is refused before it is read.
		expect((await save(b, { mfaAmr: 'y'.repeat(200_000) })).status).toBe(413);
		expect(await stored()).toEqual(before);
	});
});
