// Refusals that name no account are counted, not stored: an OIDC callback with a state we never
// started, a Plex callback with a transaction we never started, a forward-auth request without a
// user header or naming nobody linked, a password for an unknown username. Each is one
// "AuditEvent" row per kind, address prefix (IPv4 address, IPv6 /64) and window, whose count goes
// up. A failure that names the account keeps a row of its own.
import { afterAll, beforeAll, beforeEach, describe, expect, onTestFinished, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

let app: App;
beforeAll(async () => {
	// TRUSTED_PROXIES covers the test's own address, so X-Forwarded-For can play other clients and
	// the forward-auth headers are read.
	app = await startApp({ TRUSTED_PROXIES: '127.0.0.1/32, ::1' });
	const id = await insertAdmin(app.sql);
	await app.sql`
		update "AppSettings" set "ssoMode" = 'FORWARD_AUTH', "ssoEnabled" = true where id = 1`;
	await app.sql`
		update "User" set "ssoProvider" = 'forward-auth', "ssoIssuer" = 'forward-auth',
			"ssoSubject" = 'admin'
		where id = ${id}`;
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "AuditEvent"`;
	await app.sql`delete from "Throttle"`;
});

const from = (ip: string, headers: Record<string, string> = {}) => ({
	headers: { 'x-forwarded-for': ip, ...headers }
});

type Kind = [label: string, send: (ip: string, i: number) => Promise<Response>];

const KINDS: Kind[] = [
	[
		'OIDC callback with a state never started',
		(ip, i) => browser(app.url).get(`/api/auth/sso/oidc/callback?state=junk${i}&code=x`, from(ip))
	],
	[
		'Plex callback with a transaction never started',
		(ip, i) => browser(app.url).get(`/api/auth/plex/callback?tx=junk${i}`, from(ip))
	],
	[
		'forward auth without a user header',
		(ip) => browser(app.url).get('/api/auth/sso/forward', from(ip))
	],
	[
		'forward auth naming nobody linked',
		(ip, i) =>
			browser(app.url).get('/api/auth/sso/forward', from(ip, { 'remote-user': `stranger${i}` }))
	]
];

async function auditRows() {
	return app.sql<{ event: string; ip: string; count: number; userId: number | null }[]>`
		select event, ip, count, "userId" from "AuditEvent" order by id`;
}

describe('anonymous refusals are counted, not stored', () => {
	test.each(KINDS)('%s: 60 requests from one address are one row counting 60', async (_, send) => {
		for (let i = 0; i < 60; i++) {
			const res = await send('198.51.100.20', i);
			expect(res.status).toBe(303);
		}
		expect(await auditRows()).toEqual([
			{ event: 'login.failed', ip: '198.51.100.20', count: 60, userId: null }
		]);
	});

	test('the addresses of one IPv6 /64 share a row; another address gets its own', async () => {
		const [, send] = KINDS[0];
		for (let i = 1; i <= 20; i++) await send(`2001:db8:5:6::${i.toString(16)}`, i);
		for (let i = 1; i <= 5; i++) await send('203.0.113.44', i);
		expect(await auditRows()).toEqual([
			{ event: 'login.failed', ip: '2001:db8:5:6::/64', count: 20, userId: null },
			{ event: 'login.failed', ip: '203.0.113.44', count: 5, userId: null }
		]);
	});

	test('unknown usernames are one counted row; wrong passwords for the real account a row each', async () => {
		// With SSO on, the password form is not offered (the one rule): switch it off for this test.
		await app.sql`update "AppSettings" set "ssoEnabled" = false where id = 1`;
		onTestFinished(async () => {
			await app.sql`update "AppSettings" set "ssoEnabled" = true where id = 1`;
		});
		for (let i = 0; i < 4; i++) {
			const res = await browser(app.url).post(
				'/login',
				{ username: `nobody${i}`, password: 'wrong' },
				from('198.51.100.30')
			);
			expect(res.status).toBe(400);
		}
		for (let i = 0; i < 3; i++) {
			await browser(app.url).post(
				'/login',
				{ username: 'admin', password: 'wrong' },
				from('198.51.100.31')
			);
		}
		const rows = await auditRows();
		expect(rows.filter((r) => r.userId === null)).toEqual([
			{ event: 'login.failed', ip: '198.51.100.30', count: 4, userId: null }
		]);
		expect(rows.filter((r) => r.userId !== null)).toHaveLength(3);
	});

	test('an unknown passkey: 15 sign-in attempts are one row counting 15', async () => {
		// (The passkey throttle refuses the 21st attempt per address and window, unchecked.)
		// Made for this host: only such a passkey is a way in, so only then is passkey sign-in offered.
		await app.sql`
			insert into "Passkey" ("userId", "credentialId", "publicKey", "rpId", name)
			select id, 'the-admins-key', '\\x00', ${new URL(app.url).hostname}, 'Laptop'
			from "User" limit 1`;
		onTestFinished(async () => {
			await app.sql`delete from "Passkey"`;
		});
		const clientDataJSON = Buffer.from(
			JSON.stringify({ type: 'webauthn.get', challenge: 'never-issued', origin: app.url })
		).toString('base64url');
		for (let i = 0; i < 15; i++) {
			const res = await browser(app.url).post(
				'/api/auth/passkey/login',
				{
					response: JSON.stringify({
						id: `stranger-${i}`,
						rawId: `stranger-${i}`,
						type: 'public-key',
						response: { clientDataJSON, authenticatorData: '', signature: '' }
					})
				},
				from('198.51.100.50')
			);
			expect(res.status).toBe(400);
		}
		expect(await auditRows()).toEqual([
			{ event: 'login.failed', ip: '198.51.100.50', count: 15, userId: null }
		]);
	});

	test('a counted row keeps what the history shows: the reason and the first subject', async () => {
		const [, send] = KINDS[3];
		for (let i = 0; i < 3; i++) await send('198.51.100.40', i);
		const [row] = await app.sql<{ detail: Record<string, string> }[]>`
			select detail from "AuditEvent"`;
		expect(row.detail).toEqual({ reason: 'not_linked', subject: 'stranger0' });
	});
});

describe('while the provider cannot be discovered', () => {
	let oidc: App;
	beforeAll(async () => {
		// Discovery goes to a closed port: every start fails the same way.
		oidc = await startApp({});
		await insertAdmin(oidc.sql);
		await oidc.sql`
			update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = 'http://127.0.0.1:1/realm',
				"oidcClientId" = 'librariarr', "ssoEnabled" = true
			where id = 1`;
	});
	afterAll(() => oidc?.stop());

	test('100 anonymous starts log one ERROR line for the cause, not 100', async () => {
		for (let i = 0; i < 100; i++) {
			const res = await browser(oidc.url).get('/api/auth/sso/oidc/login');
			expect(res.status).toBe(303);
			expect(res.headers.get('location')).toBe('/login?sso_error=token_exchange_failed');
		}
		const errors = oidc
			.logs()
			.split('\n')
			.filter((line) => / ERROR OIDC sign-in could not start/.test(line));
		expect(errors).toHaveLength(1);
	});
});
