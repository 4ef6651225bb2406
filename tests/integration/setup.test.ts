import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, startApp, type App } from '../helpers/app';

let app: App;
beforeAll(async () => {
	app = await startApp();
});
afterAll(() => app?.stop());

const validForm = {
	displayName: 'Ada Admin',
	localUsername: 'Admin',
	password: 'correct horse battery',
	confirmPassword: 'correct horse battery'
};

describe('first-run setup', () => {
	test('with no user, every page leads to /setup', async () => {
		const b = browser(app.url);
		for (const path of ['/', '/login', '/settings/authentication', '/logout']) {
			const res = await b.get(path);
			expect(res.status, path).toBe(303);
			expect(res.headers.get('location'), path).toBe('/setup');
		}
		expect((await b.get('/setup')).status).toBe(200);
		expect((await b.get('/healthz')).status).toBe(200);
	});

	test('bad input is refused with a message per field and creates nothing', async () => {
		const b = browser(app.url);
		const res = await b.post('/setup', {
			displayName: '   ',
			localUsername: 'ab',
			password: '   short   ',
			confirmPassword: 'different'
		});
		expect(res.status).toBe(400);
		const html = await res.text();
		expect(html).toContain('Enter a display name.');
		expect(html).toContain('Usernames have at least 3 characters.');
		expect(html).toContain('Passwords have at least 8 characters');
		expect(html).toContain('The passwords do not match.');
		expect(html).not.toContain('short'); // the password is never echoed back
		const [{ count }] = await app.sql`select count(*)::int from "User"`;
		expect(count).toBe(0);
	});

	test('two setups racing each other: exactly one wins, the other gets a clear message', async () => {
		const attempts = Array.from({ length: 6 }, (_, i) =>
			browser(app.url).post('/setup', { ...validForm, localUsername: `admin${i}` })
		);
		const results = await Promise.all(attempts);
		// One winner, signed in and sent home. Every other one is sent to the login page, which
		// says that setup was already completed; none is signed in.
		const winners = results.filter((r) =>
			r.headers.get('set-cookie')?.startsWith('librariarr_session=')
		);
		expect(winners).toHaveLength(1);
		expect(winners[0].status).toBe(303);
		expect(winners[0].headers.get('location')).toBe('/');
		const losers = results.filter((r) => r !== winners[0]);
		for (const r of losers) {
			expect(r.status).toBe(303);
			expect(r.headers.get('location')).toBe('/login?setup=done');
		}
		const notice = await (await browser(app.url).get('/login?setup=done')).text();
		expect(notice).toContain(
			'Setup has already been completed. Sign in with the account that was created.'
		);
		const users = await app.sql`select "localUsername" from "User"`;
		expect(users).toHaveLength(1);
		expect(winners[0].headers.get('set-cookie')).toMatch(
			/librariarr_session=[a-z2-7]{32}; Path=\/; Expires=.*; HttpOnly; SameSite=Lax/
		);
	});

	test('after setup, /setup is gone and the winner is signed in', async () => {
		const b = browser(app.url);
		expect((await b.get('/setup')).headers.get('location')).toBe('/login');
		const res = await b.post('/setup', validForm);
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/login?setup=done'); // not a new account
		const [{ count }] = await app.sql`select count(*)::int from "User"`;
		expect(count).toBe(1);
	});
});
