import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { startServer } from '../helpers/server.js';
import { softAuthenticator } from '../helpers/soft-authenticator';
import { snapshotTables } from '../helpers/db-snapshot';
import { expireFlowCookie } from '../helpers/flow-cookie';

// Passkeys against the built server and a real PostgreSQL, with a software authenticator that
// signs like a real one. Loopback is a trusted proxy here so that tests can speak for several
// client addresses (X-Forwarded-For); the public origin stays http://127.0.0.1:<port>.

let app: App;
let origin: string;
let rpId: string;
const SECRET_KEY = 'passkeys-test-key';
const env = { TRUSTED_PROXIES: '127.0.0.1/32,::1/128', SECRET_KEY };
beforeAll(async () => {
	app = await startApp(env);
	origin = app.url;
	rpId = new URL(origin).hostname;
});
afterAll(async () => {
	await app?.stop();
});

beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`delete from "Throttle"`;
	await app.sql`delete from "UsedSignInFlow"`;
	await app.sql`delete from "AuditEvent"`;
	await app.sql`
		update "AppSettings" set "localAuthEnabled" = true, "plexLoginEnabled" = false,
			"ssoEnabled" = false, "passkeyLoginEnabled" = true
	`;
	await insertAdmin(app.sql);
});

type Client = ReturnType<typeof browser>;
const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

async function signedIn() {
	const b = browser(app.url);
	expect((await b.signIn()).status).toBe(303);
	return b;
}

async function registrationOptions(b: Client, fields: Record<string, string> = {}) {
	const res = await b.post('/settings/security/passkeys/options', fields);
	return { res, body: await json(res) };
}

/** Registers a new software passkey for the signed-in admin. */
async function addPasskey(b: Client, name = 'Laptop', counter = 0) {
	const key = softAuthenticator();
	const { res, body } = await registrationOptions(b);
	expect(res.status).toBe(200);
	const answer = key.register({ challenge: body.challenge as string, origin, rpId, counter });
	const saved = await b.post('/settings/security/passkeys/register', {
		name,
		response: JSON.stringify(answer)
	});
	expect(saved.status, JSON.stringify(await json(saved.clone()))).toBe(200);
	return key;
}

async function signInChallenge(b: Client, headers: Record<string, string> = {}) {
	const res = await b.post('/api/auth/passkey/options', {}, { headers });
	expect(res.status).toBe(200);
	return (await json(res)).challenge as string;
}

async function passkeySignIn(b: Client, answer: unknown, returnTo = '/') {
	return b.post('/api/auth/passkey/login', { response: JSON.stringify(answer), returnTo });
}

const count = async (table: string, where = app.sql`true`) =>
	(await app.sql`select count(*)::int as n from ${app.sql(table)} where ${where}`)[0].n as number;

describe('registering a passkey', () => {
	test('a fresh sign-in is proof; an older session needs the current password, throttled like the settings check', async () => {
		const b = await signedIn();
		expect((await registrationOptions(b)).res.status).toBe(200);
		await app.sql`update "Session" set "createdAt" = now() - interval '6 minutes'`;
		const none = await registrationOptions(b);
		expect(none.res.status).toBe(403);
		expect(none.body.message).toContain('This change needs proof that it is you.');
		expect(none.body.message).toContain('your current password');
		const wrong = await registrationOptions(b, { currentPassword: 'not it at all' });
		expect(wrong.res.status).toBe(400);
		expect(wrong.body.message).toBe('That is not your current password.');
		expect(await count('Throttle', app.sql`key like 'current-password:%'`)).toBeGreaterThan(0);
		expect(
			(await registrationOptions(b, { currentPassword: 'correct horse battery' })).res.status
		).toBe(200);
		// That proof covers five minutes (step-up.ts); past them, guesses count again.
		await app.sql`update "Session" set "provedAt" = null`;
		for (let i = 0; i < 9; i++) await registrationOptions(b, { currentPassword: 'wrong guess' });
		const refused = await registrationOptions(b, { currentPassword: 'correct horse battery' });
		expect(refused.res.status).toBe(429);
		expect(refused.res.headers.get('retry-after')).toMatch(/^\d+$/);
	}, 60_000);

	test('the passkey is stored with the RP ID; the challenge works once only', async () => {
		const b = await signedIn();
		const key = softAuthenticator();
		const { body } = await registrationOptions(b);
		expect((body.rp as { id: string }).id).toBe(rpId);
		expect(body.authenticatorSelection).toMatchObject({ residentKey: 'required' });
		const answer = JSON.stringify(
			key.register({ challenge: body.challenge as string, origin, rpId })
		);
		const first = await b.post('/settings/security/passkeys/register', {
			name: 'Laptop',
			response: answer
		});
		expect(first.status).toBe(200);
		const again = await b.post('/settings/security/passkeys/register', {
			name: 'Laptop again',
			response: answer
		});
		expect(again.status).toBe(400);
		expect((await json(again)).message).toMatch(/expired or was already used/);
		const rows = await app.sql`select name, "rpId" from "Passkey"`;
		expect(rows).toEqual([{ name: 'Laptop', rpId }]);
	});

	test('a challenge older than five minutes is refused, and nothing is recorded', async () => {
		const b = await signedIn();
		const { body } = await registrationOptions(b);
		expireFlowCookie(b.jar, 'passkey-register', SECRET_KEY);
		const key = softAuthenticator();
		const res = await b.post('/settings/security/passkeys/register', {
			name: 'Late',
			response: JSON.stringify(key.register({ challenge: body.challenge as string, origin, rpId }))
		});
		expect(res.status).toBe(400);
		expect(await count('Passkey')).toBe(0);
		expect(await count('UsedSignInFlow')).toBe(0);
	});

	test('an answer for another origin or RP ID, or without user verification, is refused', async () => {
		const b = await signedIn();
		for (const bad of [
			{ origin: 'http://evil.example' },
			{ rpId: 'evil.example' },
			{ userVerified: false }
		]) {
			const { body } = await registrationOptions(b);
			const key = softAuthenticator();
			const res = await b.post('/settings/security/passkeys/register', {
				name: 'Bad',
				response: JSON.stringify(
					key.register({ challenge: body.challenge as string, origin, rpId, ...bad })
				)
			});
			expect(res.status, JSON.stringify(bad)).toBe(400);
		}
		expect(await count('Passkey')).toBe(0);
	});

	test('another session cannot use my challenge; junk is a 400, never a 500', async () => {
		const b = await signedIn();
		const other = await signedIn();
		const { body } = await registrationOptions(b);
		const key = softAuthenticator();
		const answer = key.register({ challenge: body.challenge as string, origin, rpId });
		const res = await other.post('/settings/security/passkeys/register', {
			name: 'Stolen',
			response: JSON.stringify(answer)
		});
		expect(res.status).toBe(400);
		for (const response of ['', 'not json', '{}', '[]', JSON.stringify({ ...answer, type: 'x' })]) {
			const junk = await b.post('/settings/security/passkeys/register', { name: 'x', response });
			expect(junk.status, response).toBe(400);
		}
		const noName = await b.post('/settings/security/passkeys/register', {
			name: '\u0007',
			response: JSON.stringify(answer)
		});
		expect(noName.status).toBe(400);
	});
});

describe('signing in with a passkey', () => {
	test('ends like every other sign-in: a session, an audit row, a validated return path', async () => {
		const key = await addPasskey(await signedIn());
		const b = browser(app.url);
		const challenge = await signInChallenge(b);
		const res = await passkeySignIn(
			b,
			key.authenticate({ challenge, origin, rpId }),
			'//evil.example/x'
		);
		expect(res.status).toBe(200);
		expect(await json(res)).toEqual({ location: '/' });
		expect(b.jar.has('librariarr_session')).toBe(true);
		const home = await b.get('/');
		expect(home.status).toBe(200);
		const [audit] = await app.sql`
			select method from "AuditEvent" where event = 'login.succeeded' order by id desc limit 1
		`;
		expect(audit.method).toBe('passkey');
		const [row] = await app.sql`select "lastUsedAt" from "Passkey"`;
		expect(row.lastUsedAt).not.toBeNull();
		const [session] = await app.sql`select method from "Session" order by "createdAt" desc limit 1`;
		expect(session.method).toBe('passkey');

		const settled = browser(app.url);
		const next = await signInChallenge(settled);
		const back = await passkeySignIn(
			settled,
			key.authenticate({ challenge: next, origin, rpId }),
			'/settings/security'
		);
		expect(await json(back)).toEqual({ location: '/settings/security' });
	});

	test('a sign-in challenge works once, and not after five minutes', async () => {
		const key = await addPasskey(await signedIn());
		const b = browser(app.url);
		const challenge = await signInChallenge(b);
		const answer = key.authenticate({ challenge, origin, rpId });
		expect((await passkeySignIn(b, answer)).status).toBe(200);
		const replay = await passkeySignIn(browser(app.url), answer);
		expect(replay.status).toBe(400);
		expect((await json(replay)).message).toMatch(/expired or was already used/);
		expect(await count('Session')).toBe(2);

		// A copy of the cookie taken before the sign-in: the challenge was recorded when it was used.
		const copy = browser(app.url);
		const challengeAgain = await signInChallenge(copy);
		const copied = new Map(copy.jar);
		const answerAgain = key.authenticate({ challenge: challengeAgain, origin, rpId });
		expect((await passkeySignIn(copy, answerAgain)).status).toBe(200);
		const thief = browser(app.url);
		for (const [k, v] of copied) thief.jar.set(k, v);
		const stolen = await passkeySignIn(thief, answerAgain);
		expect(stolen.status).toBe(400);
		expect((await json(stolen)).message).toMatch(/expired or was already used/);
		expect(await count('Session')).toBe(3);

		const late = await signInChallenge(b);
		expireFlowCookie(b.jar, 'passkey', SECRET_KEY);
		const res = await passkeySignIn(b, key.authenticate({ challenge: late, origin, rpId }));
		expect(res.status).toBe(400);
	});

	test('another origin, another RP ID, a passkey made under another host, a missing user verification: refused', async () => {
		const key = await addPasskey(await signedIn());
		const b = browser(app.url);
		for (const bad of [
			{ origin: 'http://evil.example' },
			{ rpId: 'evil.example' },
			{ userVerified: false }
		]) {
			const challenge = await signInChallenge(b);
			const res = await passkeySignIn(b, key.authenticate({ challenge, origin, rpId, ...bad }));
			expect(res.status, JSON.stringify(bad)).toBe(400);
		}
		// One passkey made under an old host, another under this one: the button is offered (the
		// second can sign in), and the first is refused with words that say why.
		const signedInAgain = await signedIn();
		await app.sql`update "Passkey" set "rpId" = 'old-host.example'`;
		await addPasskey(signedInAgain, 'Here');
		const challenge = await signInChallenge(b);
		const res = await passkeySignIn(b, key.authenticate({ challenge, origin, rpId }));
		expect(res.status).toBe(400);
		expect((await json(res)).message).toMatch(/another address/);
		expect(b.jar.has('librariarr_session')).toBe(false);
		// With every passkey made under another host, none is a way in: the rule does not offer it.
		await app.sql`update "Passkey" set "rpId" = 'old-host.example'`;
		expect((await b.post('/api/auth/passkey/options', {})).status).toBe(404);
	});

	test('the signature counter must move forward', async () => {
		const key = await addPasskey(await signedIn(), 'Key', 5);
		const b = browser(app.url);
		let challenge = await signInChallenge(b);
		expect(
			(await passkeySignIn(b, key.authenticate({ challenge, origin, rpId, counter: 6 }))).status
		).toBe(200);
		const [row] = await app.sql`select counter from "Passkey"`;
		expect(Number(row.counter)).toBe(6);
		const c = browser(app.url);
		challenge = await signInChallenge(c);
		const cloned = await passkeySignIn(
			c,
			key.authenticate({ challenge, origin, rpId, counter: 6 })
		);
		expect(cloned.status).toBe(400);
		expect(c.jar.has('librariarr_session')).toBe(false);
	});

	test('throttled per client address: the 21st attempt in 15 minutes is refused unchecked', async () => {
		const key = await addPasskey(await signedIn());
		const b = browser(app.url);
		const from = { 'x-forwarded-for': '198.51.100.7' };
		for (let i = 0; i < 20; i++) {
			const res = await b.post(
				'/api/auth/passkey/login',
				{ response: JSON.stringify(key.authenticate({ challenge: 'nope', origin, rpId })) },
				{ headers: from }
			);
			expect(res.status).toBe(400);
		}
		const challenge = await signInChallenge(b, from);
		const res = await b.post(
			'/api/auth/passkey/login',
			{ response: JSON.stringify(key.authenticate({ challenge, origin, rpId })) },
			{ headers: from }
		);
		expect(res.status).toBe(429);
		expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
		// Another address is not held up.
		const other = await signInChallenge(b);
		expect(
			(await passkeySignIn(b, key.authenticate({ challenge: other, origin, rpId }))).status
		).toBe(200);
	});

	test('no button and no challenge while nobody has a passkey or passkey sign-in is off', async () => {
		const b = browser(app.url);
		expect((await b.post('/api/auth/passkey/options', {})).status).toBe(404);
		expect(await (await b.get('/login')).text()).not.toContain('username webauthn');
		await addPasskey(await signedIn());
		expect(await (await b.get('/login')).text()).toContain('username webauthn');
		await app.sql`update "AppSettings" set "passkeyLoginEnabled" = false`;
		expect((await b.post('/api/auth/passkey/options', {})).status).toBe(404);
	});
});

describe('asking for a challenge writes nothing', () => {
	test('50 sign-in challenges from strangers (IPv4, one IPv6 /64) and 8 registration options leave every table as it was', async () => {
		await addPasskey(await signedIn());
		const admin = await signedIn();
		const before = await snapshotTables(app.sql);
		for (let i = 0; i < 50; i++) {
			const address = i % 2 ? `198.51.100.${i}` : `2001:db8::${(i + 1).toString(16)}`;
			await signInChallenge(browser(app.url), { 'x-forwarded-for': address });
		}
		for (let i = 0; i < 8; i++) expect((await registrationOptions(admin)).res.status).toBe(200);
		expect(await snapshotTables(app.sql)).toEqual(before);
	}, 60_000);

	test('strangers asking for challenges from the admin’s address do not stop the admin’s passkey sign-in', async () => {
		const key = await addPasskey(await signedIn());
		const same = { 'x-forwarded-for': '203.0.113.77' };
		const admin = browser(app.url);
		const challenge = await signInChallenge(admin, same);
		for (let i = 0; i < 50; i++) await signInChallenge(browser(app.url), same);
		const res = await passkeySignIn(admin, key.authenticate({ challenge, origin, rpId }));
		expect(res.status, JSON.stringify(await json(res.clone()))).toBe(200);
	}, 60_000);

	test('a used challenge is recorded until it would have expired; housekeeping then purges it', async () => {
		const key = await addPasskey(await signedIn());
		const b = browser(app.url);
		const challenge = await signInChallenge(b);
		expect((await passkeySignIn(b, key.authenticate({ challenge, origin, rpId }))).status).toBe(
			200
		);
		// The registration and the sign-in: one record each, with the flow's five minutes.
		const rows = await app.sql<{ left: number }[]>`
			select extract(epoch from "expiresAt" - now())::int as left from "UsedSignInFlow"
		`;
		expect(rows).toHaveLength(2);
		for (const { left } of rows) expect(left).toBeGreaterThan(240);
		for (const { left } of rows) expect(left).toBeLessThanOrEqual(300);
		await app.sql`update "UsedSignInFlow" set "expiresAt" = now() - interval '1 second'`;
		const second = await startServer({ databaseUrl: app.databaseUrl, env });
		try {
			await expect.poll(() => count('UsedSignInFlow'), { timeout: 15_000 }).toBe(0);
		} finally {
			await second.stop();
		}
	}, 60_000);
});

describe('the lock-out rule knows passkeys', () => {
	test('with a passkey and passkey sign-in on, the password may go off; the last passkey and the switch then stay', async () => {
		const b = await signedIn();
		const path = '/settings/authentication?/toggleLocal';
		expect((await b.post(path, { enabled: 'false' })).status).toBe(409);
		await addPasskey(b, 'Only');
		expect((await b.post(path, { enabled: 'false' })).status).toBe(200);
		const [{ id }] = await app.sql`select id from "Passkey"`;
		const del = await b.post('/settings/security?/deletePasskey', { passkey: String(id) });
		expect(del.status).toBe(409);
		const off = await b.post('/settings/security?/togglePasskeyLogin', { enabled: 'false' });
		expect(off.status).toBe(409);
		expect(await count('Passkey')).toBe(1);
		const [settings] = await app.sql`select "passkeyLoginEnabled" from "AppSettings"`;
		expect(settings.passkeyLoginEnabled).toBe(true);

		// With the password back on, both are allowed.
		expect((await b.post(path, { enabled: 'true' })).status).toBe(200);
		expect(
			(await b.post('/settings/security?/togglePasskeyLogin', { enabled: 'false' })).status
		).toBe(200);
		expect(
			(await b.post('/settings/security?/deletePasskey', { passkey: String(id) })).status
		).toBe(200);
		expect(await count('Passkey')).toBe(0);
	});

	test('rename and delete touch only my own passkeys; bad ids are a 400', async () => {
		const b = await signedIn();
		await addPasskey(b, 'Mine');
		const [{ id }] = await app.sql`select id from "Passkey"`;
		const rename = await b.post('/settings/security?/renamePasskey', {
			passkey: String(id),
			name: '  Work laptop '
		});
		expect(rename.status).toBe(200);
		expect((await app.sql`select name from "Passkey"`)[0].name).toBe('Work laptop');
		for (const passkey of ['', 'abc', '-1', '99999999999', '1.5']) {
			const res = await b.post('/settings/security?/renamePasskey', { passkey, name: 'x' });
			expect(res.status, passkey).toBe(400);
		}
		const missing = await b.post('/settings/security?/deletePasskey', {
			passkey: String(id + 1000)
		});
		expect(missing.status).toBe(404);
	});
});
