// TOTP as a second step after the password, and one-time recovery codes, against the built
// server and a real PostgreSQL: no session before the code, a step or a recovery code is
// accepted once (also when the same one arrives twice at the same moment), both checks are
// throttled like the password, and /login/recovery needs nothing but the database.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { derivedKey, loadKey, seal } from '../../src/lib/server/crypto';
import {
	hashRecoveryCode,
	newRecoveryCode,
	normaliseRecoveryCode
} from '../../src/lib/server/auth/recovery-codes';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

const SECRET_KEY = 'two-factor test key';
const key = loadKey({ SECRET_KEY });
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

let app: App;
let adminId: number;
beforeAll(async () => {
	app = await startApp({ SECRET_KEY, TRUSTED_PROXIES: '127.0.0.1/32, ::1' });
	adminId = await insertAdmin(app.sql);
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "Throttle"`;
	await app.sql`delete from "Session"`;
	await app.sql`delete from "PendingSignIn"`;
	await app.sql`delete from "RecoveryCode"`;
	await app.sql`
		update "User" set "totpSecret" = ${seal(TOTP_SECRET, key)}, "totpLastStep" = null,
			"totpEnabledAt" = now()
		where id = ${adminId}
	`;
	await app.sql`
		update "AppSettings" set "ssoEnabled" = false, "oidcIssuer" = null, "oidcClientId" = null
	`;
});

const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

function currentCode(offsetSteps = 0) {
	const step = BigInt(Math.floor(Date.now() / 30_000) + offsetSteps);
	return generateHOTP(decodeBase32IgnorePadding(TOTP_SECRET), step, 6);
}

/** A browser that has given the right password and waits at /login/code. */
async function atSecondStep(ip = '198.51.100.7') {
	const b = browser(app.url);
	const res = await b.post(
		'/login',
		{ username: 'admin', password: 'correct horse battery', returnTo: '/settings/security' },
		from(ip)
	);
	expect(res.status).toBe(303);
	expect(res.headers.get('location')).toBe('/login/code');
	return b;
}

async function storeRecoveryCodes(count = 10) {
	const codes = Array.from({ length: count }, newRecoveryCode);
	const hmac = derivedKey('recovery-codes', key);
	for (const code of codes) {
		await app.sql`
			insert into "RecoveryCode" ("userId", "codeHash")
			values (${adminId}, ${hashRecoveryCode(normaliseRecoveryCode(code)!, hmac)})
		`;
	}
	return codes;
}

describe('the second step of a password sign-in', () => {
	test('the right password alone gives no session: the browser is sent to /login/code', async () => {
		const b = await atSecondStep();
		expect(b.jar.has('librariarr_session')).toBe(false);
		expect(b.jar.has('librariarr_pending')).toBe(true);
		expect((await b.get('/settings/security')).status).toBe(303);
		const [{ count }] = await app.sql`select count(*)::int from "Session"`;
		expect(count).toBe(0);
	});

	test('the right code signs in and goes to the return path; the same code is refused after', async () => {
		const code = currentCode();
		const first = await atSecondStep();
		const ok = await first.post('/login/code?/totp', { code });
		expect(ok.status).toBe(303);
		expect(ok.headers.get('location')).toBe('/settings/security');
		expect(first.jar.has('librariarr_session')).toBe(true);

		const second = await atSecondStep();
		const replayed = await second.post('/login/code?/totp', { code });
		expect(replayed.status).toBe(400);
		expect(await replayed.text()).toContain('already used');
		expect(second.jar.has('librariarr_session')).toBe(false);
	});

	test('a code for an earlier step than the last accepted one is refused', async () => {
		const b = await atSecondStep();
		expect((await b.post('/login/code?/totp', { code: currentCode(1) })).status).toBe(303);
		const c = await atSecondStep();
		expect((await c.post('/login/code?/totp', { code: currentCode(0) })).status).toBe(400);
	});

	test('the same code sent by two waiting browsers at the same moment is accepted once', async () => {
		const code = currentCode();
		const browsers = await Promise.all(
			Array.from({ length: 5 }, (_, i) => atSecondStep(`198.51.100.${20 + i}`))
		);
		const results = await Promise.all(browsers.map((b) => b.post('/login/code?/totp', { code })));
		expect(results.map((r) => r.status).sort()).toEqual([303, 400, 400, 400, 400]);
		const [{ count }] = await app.sql`select count(*)::int from "Session"`;
		expect(count).toBe(1);
	});

	test('a waiting sign-in is single use and ends after five minutes', async () => {
		const b = await atSecondStep();
		await app.sql`update "PendingSignIn" set "expiresAt" = now() - interval '1 second'`;
		const expired = await b.post('/login/code?/totp', { code: currentCode() });
		expect(expired.status).toBe(400);
		expect(await expired.text()).toContain('expired');
		expect(b.jar.has('librariarr_session')).toBe(false);
	});

	test('a user keeps at most five waiting sign-ins', async () => {
		for (let i = 0; i < 8; i++) await atSecondStep();
		const [{ count }] = await app.sql`select count(*)::int from "PendingSignIn"`;
		expect(count).toBe(5);
	});

	test('wrong codes are throttled like passwords: the 11th try is refused unchecked', async () => {
		const b = await atSecondStep();
		for (let i = 0; i < 10; i++) {
			expect((await b.post('/login/code?/totp', { code: '000000' })).status).toBe(400);
		}
		const refused = await b.post('/login/code?/totp', { code: currentCode() });
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
		expect(b.jar.has('librariarr_session')).toBe(false);
		const keys = await app.sql`select key from "Throttle" where kind = 'totp'`;
		expect(keys.length).toBeGreaterThan(0);
	});

	test('a recovery code can stand in for the authenticator code', async () => {
		const [code] = await storeRecoveryCodes();
		const b = await atSecondStep();
		const res = await b.post('/login/code?/recovery', { code });
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/settings/authentication?recovered=1');
	});
});

describe('/login/recovery', () => {
	test('a code signs in, is used up, and the settings page says how many are left', async () => {
		const [code] = await storeRecoveryCodes();
		const b = browser(app.url);
		const res = await b.post('/login/recovery', { username: 'Admin', code: code.toLowerCase() });
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/settings/authentication?recovered=1');
		const page = await b.get('/settings/authentication?recovered=1');
		expect(await page.text()).toContain('You used a recovery code; 9 left.');
		const [audit] = await app.sql`
			select method from "AuditEvent" where event = 'login.succeeded' order by id desc limit 1
		`;
		expect(audit.method).toBe('recovery-code');

		const again = await browser(app.url).post('/login/recovery', { username: 'admin', code });
		expect(again.status).toBe(400);
	});

	test('the same code sent ten times at once (the throttle’s limit) signs in once', async () => {
		const [code] = await storeRecoveryCodes();
		const results = await Promise.all(
			Array.from({ length: 10 }, (_, i) =>
				browser(app.url).post(
					'/login/recovery',
					{ username: 'admin', code },
					from(`203.0.113.${i + 1}`)
				)
			)
		);
		const statuses = results.map((r) => r.status);
		expect(statuses.filter((s) => s === 303)).toHaveLength(1);
		expect(statuses.filter((s) => s !== 303 && s !== 400)).toEqual([]);
		const [{ count }] = await app.sql`
			select count(*)::int from "RecoveryCode" where "usedAt" is not null
		`;
		expect(count).toBe(1);
	});

	test('works while SSO hides the password form and the provider is unreachable', async () => {
		const [code] = await storeRecoveryCodes();
		await app.sql`
			update "AppSettings" set "ssoEnabled" = true, "ssoMode" = 'OIDC',
				"oidcIssuer" = 'http://127.0.0.1:9/unreachable', "oidcClientId" = 'librariarr'
		`;
		const b = browser(app.url);
		const login = await (await b.get('/login?manual=1')).text();
		expect(login).not.toContain('name="password"');
		expect(login).toContain('href="/login/recovery"');
		const res = await b.post('/login/recovery', { username: 'admin', code });
		expect(res.status).toBe(303);
		expect(b.jar.has('librariarr_session')).toBe(true);
	});

	test('wrong codes are throttled like passwords', async () => {
		const [right] = await storeRecoveryCodes();
		const b = browser(app.url);
		for (let i = 0; i < 10; i++) {
			const res = await b.post('/login/recovery', { username: 'admin', code: newRecoveryCode() });
			expect(res.status).toBe(400);
		}
		const refused = await b.post('/login/recovery', { username: 'admin', code: right });
		expect(refused.status).toBe(429);
		expect(b.jar.has('librariarr_session')).toBe(false);
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
	});

	test('nonsense is a 400 with a message, never a 500', async () => {
		const b = browser(app.url);
		for (const form of [
			{ username: '', code: 'x' },
			{ username: 'admin', code: '' },
			{ username: 'admin\u0000', code: 'AAAA' },
			{ username: 'admin', code: 'x'.repeat(5000) }
		]) {
			expect((await b.post('/login/recovery', form)).status).toBe(400);
		}
	});
});

describe('Keep me signed in, through the second step', () => {
	async function waitingWithout(ip: string) {
		const b = browser(app.url);
		const res = await b.post(
			'/login',
			{ username: 'admin', password: 'correct horse battery', keepSignedInOffered: 'yes' },
			from(ip)
		);
		expect(res.headers.get('location')).toBe('/login/code');
		return b;
	}
	const sessionCookie = (res: Response) =>
		res.headers.getSetCookie().find((c) => c.startsWith('librariarr_session='));

	test('unchecked on the password form: the code step makes a browser-session cookie', async () => {
		const b = await waitingWithout('198.51.100.40');
		const res = await b.post('/login/code?/totp', { code: currentCode() });
		expect(res.status).toBe(303);
		expect(sessionCookie(res)).not.toMatch(/Expires=|Max-Age=/i);
		const [row] = await app.sql`select "keepSignedIn" from "Session"`;
		expect(row.keepSignedIn).toBe(false);
	});

	test('unchecked: a recovery code at the code step keeps it too', async () => {
		const [code] = await storeRecoveryCodes(1);
		const b = await waitingWithout('198.51.100.41');
		const res = await b.post('/login/code?/recovery', { code });
		expect(res.status).toBe(303);
		expect(sessionCookie(res)).not.toMatch(/Expires=|Max-Age=/i);
		const [row] = await app.sql`select "keepSignedIn" from "Session"`;
		expect(row.keepSignedIn).toBe(false);
	});

	test('left checked (the default): a lasting cookie', async () => {
		const b = await atSecondStep('198.51.100.42');
		const res = await b.post('/login/code?/totp', { code: currentCode() });
		expect(sessionCookie(res)).toMatch(/Expires=/);
	});
});
