import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

// The built server, a trusted proxy played by the test (loopback is in TRUSTED_PROXIES), and the
// return paths a link sent to a victim could carry. Whatever the value, the 303 never leaves.
let app: App;
beforeAll(async () => {
	app = await startApp({ TRUSTED_PROXIES: '127.0.0.1/32,::1/128' });
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`delete from "Throttle"`;
	await app.sql`
		update "AppSettings" set "ssoMode" = 'FORWARD_AUTH', "ssoEnabled" = false, "localAuthEnabled" = true
	`;
	const id = await insertAdmin(app.sql);
	await app.sql`
		update "User" set "ssoProvider" = 'forward-auth', "ssoIssuer" = 'forward-auth', "ssoSubject" = 'alice'
		where id = ${id}
	`;
});

const OFF_SITE = [
	'//evil.example',
	'https://evil.example/',
	'/.//evil.example',
	'/..//evil.example',
	'/a/..//evil.example',
	'/%2e//evil.example',
	'/%2E%2E//evil.example',
	'/a/%2e%2e//evil.example',
	'/\\evil.example',
	'/.\\/evil.example',
	'/\t/evil.example',
	'/\n/evil.example',
	'/%2e%2e/%2E%2e//evil.example'
];

function expectOnSite(location: string | null, input: string) {
	expect(location, input).not.toBeNull();
	expect(new URL(location!, `${app.url}/login`).origin, `${input} -> ${location}`).toBe(app.url);
	expect(location!.startsWith('//'), `${input} -> ${location}`).toBe(false);
}

describe('return paths never lead off-site', () => {
	test('signed in, GET /login?returnTo=… answers 303 to a path on this site', async () => {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		for (const evil of OFF_SITE) {
			const res = await b.get(`/login?returnTo=${encodeURIComponent(evil)}`);
			expect(res.status, evil).toBe(303);
			expectOnSite(res.headers.get('location'), evil);
			expect(res.headers.get('location'), evil).toBe('/');
		}
		const ok = await b.get(`/login?returnTo=${encodeURIComponent('/settings/authentication')}`);
		expect(ok.headers.get('location')).toBe('/settings/authentication');
	});

	test('the login form carries only a cleaned return path, and the sign-in lands on site', async () => {
		for (const evil of OFF_SITE) {
			const page = await (
				await browser(app.url).get(`/login?returnTo=${encodeURIComponent(evil)}`)
			).text();
			expect(page, evil).toContain('name="returnTo" value="/"');
			const res = await browser(app.url).post('/login', {
				username: 'admin',
				password: 'correct horse battery',
				returnTo: evil
			});
			expect(res.status, evil).toBe(303);
			expect(res.headers.get('location'), evil).toBe('/');
		}
	});

	test('forward auth behind a trusted proxy signs in and stays on site', async () => {
		await app.sql`update "AppSettings" set "ssoEnabled" = true`;
		for (const evil of OFF_SITE) {
			const res = await browser(app.url).get(
				`/api/auth/sso/forward?returnTo=${encodeURIComponent(evil)}`,
				{ headers: { 'remote-user': 'alice' } }
			);
			expect(res.status, evil).toBe(303);
			expect(res.headers.getSetCookie().join(), evil).toContain('librariarr_session=');
			expectOnSite(res.headers.get('location'), evil);
			expect(res.headers.get('location'), evil).toBe('/');
		}
	});
});
