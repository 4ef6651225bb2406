import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

// The built server behind a "proxy" played by the test (loopback is trusted), so that
// X-Forwarded-For can be any client address. Only statuses and rows are looked at, never the
// module's internals: a wrong password is answered 400 after the check, a refusal 429 before it.
let app: App;
beforeAll(async () => {
	app = await startApp({ TRUSTED_PROXIES: '127.0.0.1/32, ::1' });
	await insertAdmin(app.sql);
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "Throttle"`;
	await app.sql`delete from "AuditEvent"`;
	await app.sql`delete from "Session"`;
});

const PASSWORD = 'correct horse battery';
const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

describe('check-and-count is one step', () => {
	test.each([60, 200])(
		'a burst of %i parallel wrong passwords from one address gets at most 10 checked',
		async (burst) => {
			const results = await Promise.all(
				Array.from({ length: burst }, () =>
					browser(app.url).post(
						'/login',
						{ username: 'admin', password: 'wrong guess' },
						from('198.51.100.1')
					)
				)
			);
			const statuses = results.map((r) => r.status);
			const checked = statuses.filter((s) => s === 400).length;
			expect(statuses.filter((s) => s !== 400 && s !== 429)).toEqual([]);
			expect(checked).toBe(10);
			expect(statuses.filter((s) => s === 429)).toHaveLength(burst - 10);
		}
	);

	test('a burst spread over many addresses gets at most 10 checked for one username', async () => {
		const results = await Promise.all(
			Array.from({ length: 60 }, (_, i) =>
				browser(app.url).post(
					'/login',
					{ username: 'admin', password: 'wrong guess' },
					from(`198.51.100.${100 + i}`)
				)
			)
		);
		expect(results.filter((r) => r.status === 400)).toHaveLength(10);
		expect(results.filter((r) => r.status === 429)).toHaveLength(50);
	});
});

describe('a stranger cannot lock the owner out of their own browser', () => {
	async function ownersBrowser() {
		const owner = browser(app.url);
		expect((await owner.post('/login', { username: 'admin', password: PASSWORD })).status).toBe(
			303
		);
		const device = owner.jar.get('librariarr_device');
		expect(device).toBeTruthy();
		owner.jar.delete('librariarr_session'); // signed out, the device cookie stays
		return owner;
	}

	async function strangerGuesses(count: number) {
		const statuses: number[] = [];
		for (let i = 0; i < count; i++) {
			const res = await browser(app.url).post(
				'/login',
				{ username: 'admin', password: `guess ${i}` },
				from(`203.0.113.${i % 250}`)
			);
			statuses.push(res.status);
		}
		return statuses;
	}

	test('the known-device cookie is signed, HttpOnly and scoped to the login pages', async () => {
		const b = browser(app.url);
		const res = await b.post('/login', { username: 'admin', password: PASSWORD });
		const line = res.headers.getSetCookie().find((c) => c.startsWith('librariarr_device='));
		expect(line).toMatch(/HttpOnly/i);
		expect(line).toMatch(/SameSite=Lax/i);
		expect(line).toMatch(/Path=\/login/i);
		expect(line).toMatch(/Max-Age=31536000/i);
	});

	test('after strangers used up the username-wide limit, the owner still signs in from their browser', async () => {
		const owner = await ownersBrowser();
		const statuses = await strangerGuesses(30);
		// guessing stays bounded: ten checked, the rest refused
		expect(statuses.filter((s) => s === 400)).toHaveLength(10);
		expect(statuses.filter((s) => s === 429)).toHaveLength(20);
		// a browser that never signed in is refused even with the right password ...
		const unknown = await browser(app.url).post(
			'/login',
			{ username: 'admin', password: PASSWORD },
			from('192.0.2.200')
		);
		expect(unknown.status).toBe(429);
		expect(await unknown.text()).toContain('sign in from a browser you have used before');
		// ... but the owner's own browser, from yet another address, gets in
		const res = await owner.post(
			'/login',
			{ username: 'admin', password: PASSWORD },
			from('192.0.2.201')
		);
		expect(res.status).toBe(303);
	});

	test('a stranger at the same address (a shared NAT) cannot lock the owner out of their own browser', async () => {
		const owner = await ownersBrowser();
		const nat = from('198.51.100.77');
		// The stranger fills the address and address + username keys of the shared address.
		const statuses: number[] = [];
		for (let i = 0; i < 25; i++) {
			const res = await browser(app.url).post(
				'/login',
				{ username: 'admin', password: `guess ${i}` },
				nat
			);
			statuses.push(res.status);
		}
		expect(statuses.filter((s) => s === 400)).toHaveLength(10);
		expect(statuses.filter((s) => s === 429)).toHaveLength(15);
		// A browser that never signed in, at that address, is refused with the right password …
		const unknown = await browser(app.url).post(
			'/login',
			{ username: 'admin', password: PASSWORD },
			nat
		);
		expect(unknown.status).toBe(429);
		// … the owner's own browser, at the very same address, gets in.
		const res = await owner.post('/login', { username: 'admin', password: PASSWORD }, nat);
		expect(res.status).toBe(303);
		// It was counted under its own keys, never the stranger's.
		const keys = await app.sql<{ key: string; attempts: number }[]>`
			select key, attempts from "Throttle" where key like 'password:known:%' or key like 'password:device:%'
		`;
		expect(keys.map((k) => k.key.split(':')[1]).sort()).toEqual(['known']);
		expect(keys[0].attempts).toBe(0); // the right password gave its attempt back
	});

	test('known browsers at one address are bounded by a loose backstop (100 in 15 minutes)', async () => {
		await app.sql`
			insert into "Throttle" (key, kind, attempts, "maxAttempts", "windowEndsAt")
			values ('password:known:198.51.100.88', 'password', 100, 100, now() + interval '10 minutes')
		`;
		const owner = await ownersBrowser();
		const res = await owner.post(
			'/login',
			{ username: 'admin', password: PASSWORD },
			from('198.51.100.88')
		);
		expect(res.status).toBe(429);
		expect(await res.text()).toContain('browsers at your address that signed in before');
		expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
	});

	test('a known browser is bounded too: ten wrong passwords, then it waits like anyone', async () => {
		const owner = await ownersBrowser();
		for (let i = 0; i < 10; i++) {
			const res = await owner.post(
				'/login',
				{ username: 'admin', password: 'typo' },
				from(`192.0.2.${10 + i}`)
			);
			expect(res.status).toBe(400);
		}
		const res = await owner.post(
			'/login',
			{ username: 'admin', password: PASSWORD },
			from('192.0.2.99')
		);
		expect(res.status).toBe(429);
		expect(await res.text()).toContain('Too many failed sign-in attempts from this browser.');
	});

	test.each([
		[
			'altered',
			// one character in the middle of the signature (the last one carries padding bits)
			(v: string) => v.slice(0, -10) + (v.at(-10) === 'A' ? 'B' : 'A') + v.slice(-9)
		],
		['for another account', (v: string) => v.replace(/^(v1\.[^.]+\.)\d+/, '$1999')],
		['garbage', () => 'not-a-device-cookie']
	])('a device cookie that is %s is not honoured', async (_label, tamper) => {
		const owner = await ownersBrowser();
		owner.jar.set('librariarr_device', tamper(owner.jar.get('librariarr_device')!));
		await strangerGuesses(10);
		const res = await owner.post(
			'/login',
			{ username: 'admin', password: PASSWORD },
			from('192.0.2.202')
		);
		expect(res.status).toBe(429);
	});

	test('a genuine device cookie of another account does not count for this one', async () => {
		await app.sql`delete from "User" where "localUsername" = 'bob'`;
		await insertAdmin(app.sql, {
			username: 'bob',
			password: 'bobs own password',
			displayName: 'Bob'
		});
		const bobs = browser(app.url);
		expect(
			(await bobs.post('/login', { username: 'bob', password: 'bobs own password' })).status
		).toBe(303);
		bobs.jar.delete('librariarr_session');
		await strangerGuesses(10);
		const res = await bobs.post(
			'/login',
			{ username: 'admin', password: PASSWORD },
			from('192.0.2.203')
		);
		expect(res.status).toBe(429);
		await app.sql`delete from "User" where "localUsername" = 'bob'`;
	});
});

describe('the refusal', () => {
	test('says why and when: 429, Retry-After in seconds, minutes on the page', async () => {
		for (let i = 0; i < 10; i++) {
			await browser(app.url).post(
				'/login',
				{ username: 'admin', password: 'x' },
				from('192.0.2.1')
			);
		}
		await app.sql`update "Throttle" set "windowEndsAt" = now() + interval '90 seconds'`;
		const res = await browser(app.url).post(
			'/login',
			{ username: 'admin', password: PASSWORD },
			from('192.0.2.1')
		);
		expect(res.status).toBe(429);
		const retry = Number(res.headers.get('retry-after'));
		expect(retry).toBeGreaterThanOrEqual(88);
		expect(retry).toBeLessThanOrEqual(90);
		expect(await res.text()).toContain(
			'Too many failed sign-in attempts for this account from your address. Try again in 2 minutes.'
		);
	});

	test('a stream of throttled attempts adds one audit row per key and window, with a count', async () => {
		for (let i = 0; i < 10; i++) {
			await browser(app.url).post(
				'/login',
				{ username: 'admin', password: 'x' },
				from('192.0.2.2')
			);
		}
		for (let i = 0; i < 100; i++) {
			const res = await browser(app.url).post(
				'/login',
				{ username: 'admin', password: 'x' },
				from('192.0.2.2')
			);
			expect(res.status).toBe(429);
		}
		// Attempts 11-20 are refused by the pair key, the rest by the address key (20 per address):
		// two keys, one window each, so two rows between them, whatever the number of attempts.
		const rows = await app.sql`
			select count, detail->>'key' as key from "AuditEvent"
			where event = 'login.throttled' order by id
		`;
		expect(rows).toEqual([
			{ key: 'password:pair:192.0.2.2:admin', count: 10 },
			{ key: 'password:address:192.0.2.2', count: 90 }
		]);
		const [{ total }] = await app.sql`select count(*)::int as total from "AuditEvent"`;
		expect(total).toBe(12); // ten failures, and the two collapsed rows for 100 refusals
	});
});

describe('the current password in Settings → Authentication', () => {
	test('is throttled like the sign-in form: ten wrong, then 429 even for the right one', async () => {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		const change = (currentPassword: string) =>
			b.post('/settings/authentication?/credentials', {
				localUsername: 'admin',
				currentPassword,
				newPassword: 'a brand new passphrase',
				confirmPassword: 'a brand new passphrase'
			});
		for (let i = 0; i < 10; i++) expect((await change(`wrong ${i}`)).status).toBe(400);
		const refused = await change(PASSWORD);
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
		expect(await refused.text()).toContain(
			'Too many wrong current passwords. Try again in 15 minutes.'
		);
		const [user] = await app.sql`select "passwordHash" from "User" where "localUsername" = 'admin'`;
		const { verify } = await import('@node-rs/argon2');
		expect(await verify(user.passwordHash, PASSWORD)).toBe(true);
	});
});
