// Back-channel logout: the provider posts a signed logout token and the sessions of the provider
// login it names end. Every malformed or forged token is refused with 400 and leaves the session
// alive; an honest one ends exactly the sessions it names. The provider is the hostile test IdP,
// whose keys the tests hold, so that each rule of the specification can be broken on its own.
import { randomUUID } from 'node:crypto';
import { type JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { open, loadKey } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import {
	craftJwt,
	makeKey,
	startHostileIdp,
	without,
	type HostileIdp
} from '../helpers/hostile-idp';

const CLIENT_ID = 'librariarr';
const SECRET_KEY = 'backchannel-test-key';
const ORIGIN = 'http://librariarr.test';
const PATH = '/api/auth/sso/oidc/backchannel-logout';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

let app: App;
let idp: HostileIdp;
let adminId: number;
let otherId: number;

beforeAll(async () => {
	idp = await startHostileIdp({ clientId: CLIENT_ID });
	app = await startApp({ SECRET_KEY, ORIGIN });
	adminId = await insertAdmin(app.sql);
	otherId = await insertAdmin(app.sql, { username: 'bob', displayName: 'Bob' });
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
			"oidcClientId" = ${CLIENT_ID}, "oidcClientAuthMethod" = 'none', "ssoEnabled" = true
		where id = 1
	`;
	await app.sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${idp.issuer}, "ssoSubject" = 'alice'
		where id = ${adminId}
	`;
	await app.sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${idp.issuer}, "ssoSubject" = 'bob'
		where id = ${otherId}
	`;
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
});
beforeEach(async () => {
	idp.reset();
	await app.sql`delete from "Session"`;
	await app.sql`delete from "Throttle"`;
});

/** A whole OIDC sign-in of `sub` whose ID token carries `sid`; returns the signed-in browser. */
async function signIn(sid: string, sub = 'alice') {
	const b = browser(app.url);
	idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce, { sub, sid }));
	const start = await b.get('/api/auth/sso/oidc/login');
	const request = idp.authorize(start.headers.get('location') ?? '');
	const res = await b.get(
		`/api/auth/sso/oidc/callback?${new URLSearchParams({ code: request.code, state: request.state })}`
	);
	expect(res.status).toBe(303);
	expect(res.headers.get('location')).toBe('/');
	expect(await signedIn(b)).toBe(true);
	return b;
}

async function signedIn(b: ReturnType<typeof browser>) {
	return (await b.get('/')).status === 200;
}

/** What an honest provider puts in a logout token, with `extra` merged over it. */
function claims(extra: JWTPayload = {}): JWTPayload {
	const now = Math.floor(Date.now() / 1000);
	return {
		iss: idp.issuer,
		aud: CLIENT_ID,
		iat: now,
		exp: now + 120,
		jti: randomUUID(),
		events: { [EVENT]: {} },
		sid: 'sid-1',
		...extra
	};
}

/** Posts a logout token as a provider does: server to server, no Origin, no cookie. */
function post(token: string) {
	return fetch(new URL(PATH, app.url), {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ logout_token: token })
	});
}

async function expectRefused(token: string | Promise<string>) {
	const b = await signIn('sid-1');
	const res = await post(await token);
	expect(res.status).toBe(400);
	expect(res.headers.get('cache-control')).toBe('no-store');
	expect(await signedIn(b)).toBe(true);
	return res;
}

describe('a logout token that breaks a rule is refused and the session stays', () => {
	test('a signature by a key the provider does not publish', async () => {
		const stranger = await makeKey('key-1');
		await expectRefused(idp.sign(claims(), stranger));
	});
	test('alg none', async () => {
		await expectRefused(craftJwt({ alg: 'none', typ: 'logout+jwt' }, claims()));
	});
	test('a symmetric algorithm (HS256), even with a correct-looking token', async () => {
		const { SignJWT } = await import('jose');
		const token = await new SignJWT(claims())
			.setProtectedHeader({ alg: 'HS256' })
			.sign(new TextEncoder().encode('x'.repeat(32)));
		await expectRefused(token);
	});
	test('a wrong iss', async () => {
		await expectRefused(idp.sign(claims({ iss: 'http://127.0.0.1:1/other' })));
	});
	test('a wrong aud', async () => {
		await expectRefused(idp.sign(claims({ aud: 'someone-else' })));
	});
	test('no events claim', async () => {
		await expectRefused(idp.sign(without(claims(), 'events')));
	});
	test('events without the back-channel logout member', async () => {
		await expectRefused(
			idp.sign(claims({ events: { 'http://schemas.openid.net/event/other': {} } }))
		);
	});
	test('a nonce', async () => {
		await expectRefused(idp.sign(claims({ nonce: 'n-1' })));
	});
	test('neither sid nor sub', async () => {
		await expectRefused(idp.sign(without(claims(), 'sid', 'sub')));
	});
	test('iat in the future', async () => {
		const now = Math.floor(Date.now() / 1000);
		await expectRefused(idp.sign(claims({ iat: now + 3600, exp: now + 7200 })));
	});
	test('no iat', async () => {
		await expectRefused(idp.sign(without(claims(), 'iat')));
	});
	test('an expired exp', async () => {
		const now = Math.floor(Date.now() / 1000);
		await expectRefused(idp.sign(claims({ iat: now - 300, exp: now - 200 })));
	});
	test('no jti', async () => {
		await expectRefused(idp.sign(without(claims(), 'jti')));
	});
	test('a replayed jti: the second delivery ends nothing', async () => {
		const token = await idp.sign(claims({ sid: 'sid-replayed' }));
		expect((await post(token)).status).toBe(200);
		const b = await signIn('sid-replayed');
		const res = await post(token);
		expect(res.status).toBe(400);
		expect(res.headers.get('cache-control')).toBe('no-store');
		expect(await signedIn(b)).toBe(true);
	});
	test('no logout_token field at all', async () => {
		const b = await signIn('sid-1');
		const res = await fetch(new URL(PATH, app.url), {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: 'token=x'
		});
		expect(res.status).toBe(400);
		expect(await signedIn(b)).toBe(true);
	});
});

describe('an honest logout token', () => {
	test('by sid ends only that provider login; another sign-in of the same user survives', async () => {
		const first = await signIn('sid-a');
		const second = await signIn('sid-b');
		const res = await post(await idp.sign(claims({ sid: 'sid-a' })));
		expect(res.status).toBe(200);
		expect(res.headers.get('cache-control')).toBe('no-store');
		expect(await signedIn(first)).toBe(false);
		expect(await signedIn(second)).toBe(true);
		const [row] = await app.sql`
			select detail from "AuditEvent" where event = 'logout.backchannel' order by id desc limit 1
		`;
		expect(row.detail).toMatchObject({ sid: 'sid-a', sessions: 1 });
	});

	test('by sub ends every OIDC session of the user linked to that subject, and only theirs', async () => {
		const first = await signIn('sid-a');
		const second = await signIn('sid-b');
		const bob = await signIn('sid-c', 'bob');
		const res = await post(await idp.sign(without(claims({ sub: 'alice' }), 'sid')));
		expect(res.status).toBe(200);
		expect(await signedIn(first)).toBe(false);
		expect(await signedIn(second)).toBe(false);
		expect(await signedIn(bob)).toBe(true);
	});

	test('that names no session answers 200 and ends nothing', async () => {
		const b = await signIn('sid-1');
		const res = await post(await idp.sign(claims({ sid: 'sid-unknown' })));
		expect(res.status).toBe(200);
		expect(await signedIn(b)).toBe(true);
	});

	test('needs no Origin header, while every other POST without one is still refused', async () => {
		const res = await fetch(new URL('/logout', app.url), { method: 'POST' });
		expect(res.status).toBe(403);
	});
});

test('an OIDC session keeps its ID token sealed and its sid', async () => {
	await signIn('sid-kept');
	const [row] = await app.sql<{ oidcIdToken: string; oidcSid: string; oidcIssuer: string }[]>`
		select "oidcIdToken", "oidcSid", "oidcIssuer" from "Session"
	`;
	expect(row.oidcSid).toBe('sid-kept');
	expect(row.oidcIssuer).toBe(idp.issuer);
	expect(row.oidcIdToken.startsWith('ey')).toBe(false);
	const idToken = open(row.oidcIdToken, loadKey({ SECRET_KEY }));
	expect(idToken?.split('.')).toHaveLength(3);
});

test('requests from one address beyond the limit are throttled', async () => {
	const token = craftJwt({ alg: 'none' }, {});
	let status = 0;
	for (let i = 0; i < 301 && status !== 429; i++) status = (await post(token)).status;
	expect(status).toBe(429);
});

test("300 junk posts from the provider's address do not turn its real logout token away", async () => {
	const b = await signIn('sid-after-junk');
	const junk = [
		craftJwt({ alg: 'none' }, {}),
		'not-a-jwt',
		await idp.sign(claims({ sid: 'sid-after-junk' }), await makeKey('key-1'))
	];
	let last = 0;
	for (let i = 0; i < 300; i++) last = (await post(junk[i % junk.length])).status;
	expect(last).toBe(400);
	expect((await post(junk[0])).status).toBe(429);
	const res = await post(await idp.sign(claims({ sid: 'sid-after-junk' })));
	expect(res.status).toBe(200);
	expect(await signedIn(b)).toBe(false);
});

test('honest tokens are not counted against the address', async () => {
	for (let i = 0; i < 5; i++) {
		expect((await post(await idp.sign(claims({ sid: `sid-${i}` })))).status).toBe(200);
	}
	expect(await app.sql`select key from "Throttle" where kind = 'backchannel'`).toEqual([]);
});

test('seen jti rows expire and are bounded by the token age limit', async () => {
	await post(await idp.sign(claims({ sid: 'sid-x' })));
	const [row] = await app.sql<{ seconds: number }[]>`
		select extract(epoch from max("expiresAt") - now())::int as seconds from "LogoutTokenSeen"
	`;
	expect(row.seconds).toBeGreaterThan(0);
	expect(row.seconds).toBeLessThanOrEqual(11 * 60);
});
