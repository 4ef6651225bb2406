import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { startServer } from '../helpers/server.js';

// TRUSTED_PROXIES covers the test's own loopback address, so X-Forwarded-For can play
// different client addresses for the per-address and per-username counters.
let app: App;
beforeAll(async () => {
	app = await startApp({ TRUSTED_PROXIES: '127.0.0.1/32, ::1' });
	await insertAdmin(app.sql);
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "Throttle"`;
});

function from(ip: string) {
	return { headers: { 'x-forwarded-for': ip } };
}

async function attempt(username: string, password: string, ip = '198.51.100.7') {
	return browser(app.url).post('/login', { username, password }, from(ip));
}

describe('local sign-in', () => {
	test('correct credentials sign in and land on the home page, which says who and how', async () => {
		const b = browser(app.url);
		const res = await b.post('/login', { username: 'ADMIN ', password: 'correct horse battery' });
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/');
		const home = await (await b.get('/')).text();
		expect(home).toContain('Ada Admin');
		expect(home).toContain('local username and password');
		const [event] =
			await app.sql`select event, method, ip from "AuditEvent" where event = 'login.succeeded'`;
		expect(event).toMatchObject({ method: 'local', ip: '127.0.0.1' });
	});

	test('every sign-in gets a new session token', async () => {
		const a = browser(app.url);
		await a.signIn();
		const first = a.jar.get('librariarr_session');
		await a.post('/logout', {});
		await a.signIn();
		expect(a.jar.get('librariarr_session')).toBeDefined();
		expect(a.jar.get('librariarr_session')).not.toBe(first);
	});

	test('a wrong password and an unknown user get the same answer', async () => {
		const wrong = await attempt('admin', 'not the password');
		const unknown = await attempt('nobody', 'not the password');
		expect(wrong.status).toBe(400);
		expect(unknown.status).toBe(400);
		const [a, b] = [await wrong.text(), await unknown.text()];
		expect(a).toContain('Invalid username or password');
		expect(b).toContain('Invalid username or password');
		expect(wrong.headers.get('set-cookie')).toBeNull();
	});

	test('an unknown user costs about as much time as a wrong password', async () => {
		// Not a speed test: without the dummy argon2 verification an unknown user answers in a
		// fraction of the time, which tells an attacker which usernames exist.
		const time = async (username: string, i: number) => {
			const started = performance.now();
			await attempt(username, 'wrong password', `203.0.113.${i}`);
			return performance.now() - started;
		};
		const known: number[] = [];
		const unknown: number[] = [];
		for (let i = 0; i < 8; i++) {
			known.push(await time('admin', i));
			unknown.push(await time(`ghost${i}`, i + 100));
		}
		await app.sql`delete from "Throttle"`;
		const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
		expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
	});

	test('twenty failures per client address in 15 minutes: the next attempt gets 429 with Retry-After', async () => {
		for (let i = 0; i < 20; i++) {
			// different usernames, same address
			expect((await attempt(`user${i}`, 'nope', '192.0.2.10')).status).toBe(400);
		}
		const blocked = await attempt('admin', 'correct horse battery', '192.0.2.10');
		expect(blocked.status).toBe(429);
		const retry = Number(blocked.headers.get('retry-after'));
		expect(retry).toBeGreaterThan(800);
		expect(retry).toBeLessThanOrEqual(900);
		expect(await blocked.text()).toContain(
			'Too many failed sign-in attempts from your address. Try again in 15 minutes.'
		);
		expect(blocked.headers.get('set-cookie')).toBeNull();
		// another address is not affected
		expect((await attempt('admin', 'correct horse battery', '192.0.2.11')).status).toBe(303);
	});

	test('ten failures for one username from one address block that pair', async () => {
		for (let i = 0; i < 10; i++) {
			expect((await attempt('admin', 'nope', '192.0.2.12')).status).toBe(400);
		}
		const blocked = await attempt('admin', 'correct horse battery', '192.0.2.12');
		expect(blocked.status).toBe(429);
		expect(await blocked.text()).toContain(
			'Too many failed sign-in attempts for this account from your address. Try again in 15 minutes.'
		);
	});

	test('ten failures for one username from many addresses block that username for unknown browsers', async () => {
		for (let i = 0; i < 10; i++) {
			expect((await attempt('admin', 'nope', `192.0.2.${50 + i}`)).status).toBe(400);
		}
		const blocked = await attempt('admin', 'correct horse battery', '192.0.2.99');
		expect(blocked.status).toBe(429);
		expect(await blocked.text()).toContain('sign in from a browser you have used before');
	});

	test('the counters live in PostgreSQL: a restarted server still refuses', async () => {
		for (let i = 0; i < 10; i++) await attempt('admin', 'nope', '192.0.2.20');
		const [{ attempts }] =
			await app.sql`select attempts from "Throttle" where key = 'password:pair:192.0.2.20:admin'`;
		expect(attempts).toBe(10);
		const second = await startServer({
			databaseUrl: app.databaseUrl,
			env: { TRUSTED_PROXIES: '127.0.0.1/32' }
		});
		try {
			const res = await browser(second.url).post(
				'/login',
				{ username: 'admin', password: 'x' },
				from('192.0.2.20')
			);
			expect(res.status).toBe(429);
		} finally {
			await second.stop();
		}
	});

	test('the block lifts once the 15-minute window ends', async () => {
		for (let i = 0; i < 10; i++) await attempt('admin', 'nope', '192.0.2.30');
		expect((await attempt('admin', 'correct horse battery', '192.0.2.30')).status).toBe(429);
		await app.sql`update "Throttle" set "windowEndsAt" = now() - interval '1 second'`;
		expect((await attempt('admin', 'correct horse battery', '192.0.2.30')).status).toBe(303);
	});

	test('a successful sign-in resets the counters of that address and username', async () => {
		// One browser throughout, as a person at a keyboard: after the sign-in it is a known device.
		const b = browser(app.url);
		const tryAs = (password: string) =>
			b.post('/login', { username: 'admin', password }, from('192.0.2.40'));
		for (let i = 0; i < 9; i++) expect((await tryAs('nope')).status).toBe(400);
		expect((await tryAs('correct horse battery')).status).toBe(303);
		b.jar.delete('librariarr_session');
		for (let i = 0; i < 9; i++) expect((await tryAs('nope')).status).toBe(400);
		expect((await tryAs('correct horse battery')).status).toBe(303);
	});

	test('sign-out is a POST and ends the session on the server', async () => {
		const b = browser(app.url);
		await b.signIn();
		const token = b.jar.get('librariarr_session')!;
		expect((await b.get('/logout')).status).toBe(200); // a page with a button, not a sign-out
		expect((await b.get('/')).status).toBe(200);
		const out = await b.post('/logout', {});
		expect(out.status).toBe(303);
		expect(out.headers.get('location')).toBe('/login?signed_out=1');
		// replaying the old cookie does not work: the row is gone
		const replay = await fetch(`${app.url}/`, {
			headers: { cookie: `librariarr_session=${token}` },
			redirect: 'manual'
		});
		expect(replay.status).toBe(303);
		expect(replay.headers.get('location')).toBe('/login');
	});

	test('a hash made with older parameters is re-made at the current ones on sign-in', async () => {
		const { hash } = await import('@node-rs/argon2');
		const old = await hash('correct horse battery', {
			memoryCost: 4096,
			timeCost: 3,
			parallelism: 1
		});
		await app.sql`update "User" set "passwordHash" = ${old} where "localUsername" = 'admin'`;
		expect((await browser(app.url).signIn()).status).toBe(303);
		const [row] = await app.sql`select "passwordHash" from "User" where "localUsername" = 'admin'`;
		expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
		expect((await browser(app.url).signIn()).status).toBe(303);
	});

	test('returnTo is honoured for local paths only', async () => {
		const b = browser(app.url);
		const ok = await b.post('/login', {
			username: 'admin',
			password: 'correct horse battery',
			returnTo: '/settings/authentication'
		});
		expect(ok.headers.get('location')).toBe('/settings/authentication');
		for (const evil of [
			'https://evil.example/',
			'//evil.example/x',
			'/\\evil.example',
			'javascript:alert(1)'
		]) {
			const res = await browser(app.url).post('/login', {
				username: 'admin',
				password: 'correct horse battery',
				returnTo: evil
			});
			expect(res.headers.get('location'), evil).toBe('/');
		}
	});
});

describe('while the password form is not offered', () => {
	test('a sign-in is refused with 403, counting nothing and signing nobody in, whatever the input', async () => {
		const sessions = async () =>
			(await app.sql`select count(*)::int as n from "Session"`)[0].n as number;
		const before = await sessions();
		const hide = [
			() => app.sql`update "AppSettings" set "localAuthEnabled" = false`,
			// SSO on replaces the form (forward auth needs no further configuration)
			() => app.sql`update "AppSettings" set "ssoEnabled" = true, "ssoMode" = 'FORWARD_AUTH'`
		];
		const show = () => app.sql`
			update "AppSettings" set "localAuthEnabled" = true, "ssoEnabled" = false, "ssoMode" = 'OIDC'`;
		try {
			for (const hidden of hide) {
				await hidden();
				for (const password of ['correct horse battery', 'wrong', '']) {
					const res = await attempt('admin', password);
					expect(res.status, password).toBe(403);
					expect(await res.text()).toContain('Local sign-in is turned off for this server.');
				}
				const [{ n }] = await app.sql`select count(*)::int as n from "Throttle"`;
				expect(n).toBe(0);
				await show();
			}
			expect(await sessions()).toBe(before);
		} finally {
			await show();
		}
	});
});
