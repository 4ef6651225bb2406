import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

let app: App;
beforeAll(async () => {
	app = await startApp();
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`delete from "Throttle"`;
	await insertAdmin(app.sql);
});

async function signedIn() {
	const b = browser(app.url);
	const res = await b.signIn();
	expect(res.status).toBe(303);
	return b;
}

describe('sessions', () => {
	test('only a hash of the token is stored', async () => {
		const b = await signedIn();
		const token = b.jar.get('librariarr_session')!;
		const rows = await app.sql`select id from "Session"`;
		expect(rows).toHaveLength(1);
		expect(rows[0].id).not.toContain(token);
		expect(rows[0].id).toMatch(/^[0-9a-f]{64}$/);
	});

	test('an expired session signs the browser out', async () => {
		const b = await signedIn();
		await app.sql`update "Session" set "expiresAt" = now() - interval '1 second'`;
		const res = await b.get('/');
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/login');
	});

	test('a request writes nothing while the session is fresh', async () => {
		const b = await signedIn();
		const [before] = await app.sql`select "expiresAt", "lastSeenAt" from "Session"`;
		for (let i = 0; i < 3; i++) expect((await b.get('/')).status).toBe(200);
		const [after] = await app.sql`select "expiresAt", "lastSeenAt" from "Session"`;
		expect(after).toEqual(before);
	});

	test('a session more than a day into its 30 days slides forward and the cookie is sent again', async () => {
		const b = await signedIn();
		await app.sql`update "Session" set "expiresAt" = now() + interval '28 days', "lastSeenAt" = now() - interval '2 days'`;
		const res = await b.get('/');
		expect(res.status).toBe(200);
		expect(res.headers.get('set-cookie')).toMatch(
			/^librariarr_session=[a-z2-7]{32}; Path=\/; Expires=/
		);
		const [row] = await app.sql<{ remaining: number }[]>`
			select extract(epoch from "expiresAt" - now())::int as remaining from "Session"
		`;
		expect(row.remaining).toBeGreaterThan(30 * 86400 - 60);
		// and the next request does not write again
		const [before] = await app.sql`select "expiresAt" from "Session"`;
		const again = await b.get('/');
		expect(again.headers.get('set-cookie')).toBeNull();
		const [after] = await app.sql`select "expiresAt" from "Session"`;
		expect(after).toEqual(before);
	});

	test('a forged or malformed cookie is simply signed out', async () => {
		for (const token of ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', "x' or 1=1 --", '']) {
			const res = await fetch(`${app.url}/`, {
				headers: { cookie: `librariarr_session=${token}` },
				redirect: 'manual'
			});
			expect(res.headers.get('location')).toBe('/login');
		}
	});

	test('changing the password ends every other session but keeps the current one', async () => {
		const here = await signedIn();
		const elsewhere = await signedIn();
		const res = await here.post('/settings/authentication?/credentials', {
			localUsername: 'admin',
			currentPassword: 'correct horse battery',
			newPassword: 'a brand new passphrase',
			confirmPassword: 'a brand new passphrase'
		});
		expect(res.status).toBe(200);
		expect(await res.text()).toContain('Every other session of yours has been signed out.');
		expect((await here.get('/')).status).toBe(200);
		expect((await elsewhere.get('/')).headers.get('location')).toBe('/login');
		expect((await browser(app.url).signIn('admin', 'correct horse battery')).status).toBe(400);
		expect((await browser(app.url).signIn('admin', 'a brand new passphrase')).status).toBe(303);
	});

	test('changing credentials needs the current password and changes nothing without it', async () => {
		const b = await signedIn();
		const [before] = await app.sql`select "passwordHash", "sessionVersion" from "User"`;
		const res = await b.post('/settings/authentication?/credentials', {
			localUsername: 'someone',
			currentPassword: 'wrong',
			newPassword: 'a brand new passphrase',
			confirmPassword: 'a brand new passphrase'
		});
		expect(res.status).toBe(400);
		expect(await res.text()).toContain('That is not your current password.');
		const [after] =
			await app.sql`select "passwordHash", "sessionVersion", "localUsername" from "User"`;
		expect(after).toMatchObject({ ...before, localUsername: 'admin' });
	});

	test('turning off local sign-in is refused while it is the only way in', async () => {
		const b = await signedIn();
		const res = await b.post('/settings/authentication?/toggleLocal', { enabled: 'false' });
		expect(res.status).toBe(409);
		expect(await res.text()).toContain('Local sign-in is your only way in');
		const [settings] = await app.sql`select "localAuthEnabled" from "AppSettings"`;
		expect(settings.localAuthEnabled).toBe(true);
	});

	test('turning off local sign-in is allowed when another working method exists', async () => {
		const b = await signedIn();
		await app.sql`update "User" set "plexId" = '12345'`;
		await app.sql`update "AppSettings" set "plexLoginEnabled" = true`;
		const res = await b.post('/settings/authentication?/toggleLocal', { enabled: 'false' });
		expect(res.status).toBe(200);
		const [settings] = await app.sql`select "localAuthEnabled" from "AppSettings"`;
		expect(settings.localAuthEnabled).toBe(false);
		const [audit] =
			await app.sql`select detail from "AuditEvent" where event = 'settings.local_login'`;
		expect(audit.detail).toEqual({ enabled: false });
	});
});

describe("the guide's recovery SQL, run verbatim", () => {
	test('force the local form back on', async () => {
		await app.sql`update "AppSettings" set "localAuthEnabled" = false`;
		expect(await (await browser(app.url).get('/login')).text()).not.toContain('id="password"');
		await app.sql.unsafe(`UPDATE "AppSettings" SET "localAuthEnabled" = true;`);
		expect(await (await browser(app.url).get('/login')).text()).toContain('id="password"');
	});

	test('wiping SSO bumps sessionVersion, which signs the browser out', async () => {
		const b = await signedIn();
		expect((await b.get('/')).status).toBe(200);
		await app.sql.unsafe(`
			UPDATE "AppSettings"
			SET "ssoEnabled" = false, "ssoMode" = 'OIDC', "oidcIssuer" = NULL,
			    "oidcClientId" = NULL, "oidcClientSecret" = NULL, "previousSsoConfig" = NULL;
		`);
		await app.sql.unsafe(`
			UPDATE "User"
			SET "ssoSubject" = NULL, "ssoIssuer" = NULL, "ssoProvider" = NULL,
			    "ssoEnabled" = false, "sessionVersion" = "sessionVersion" + 1;
		`);
		const res = await b.get('/');
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/login');
	});

	test('the users check reports passwords and Plex links', async () => {
		const rows = await app.sql.unsafe(`
			SELECT id, username, "localUsername", ("passwordHash" IS NOT NULL) AS has_password,
			       ("plexId" IS NOT NULL) AS has_plex
			FROM "User";
		`);
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({
			username: 'Ada Admin',
			localUsername: 'admin',
			has_password: true,
			has_plex: false
		});
	});

	test('deleting the user sends the next page to setup', async () => {
		const b = await signedIn();
		await app.sql.unsafe(`DELETE FROM "User";`);
		const res = await b.get('/');
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/setup');
		const [{ count }] = await app.sql`select count(*)::int from "Session"`;
		expect(count).toBe(0);
	});
});

describe('a session cookie that no longer names a live session', () => {
	/** The Set-Cookie line that tells the browser to drop the session cookie, if any. */
	function deletion(res: Response) {
		return res.headers
			.getSetCookie()
			.find(
				(c) =>
					c.startsWith('librariarr_session=;') &&
					(/Max-Age=0/i.test(c) || /Expires=Thu, 01 Jan 1970/i.test(c))
			);
	}

	test.each([
		['a malformed token', 'not-a-token'],
		['an unknown token', 'a'.repeat(32)]
	])('%s is cleared from the browser', async (_label, token) => {
		for (const path of ['/', '/login']) {
			const res = await fetch(`${app.url}${path}`, {
				headers: { cookie: `librariarr_session=${token}` },
				redirect: 'manual'
			});
			expect(deletion(res), path).toMatch(/Path=\//);
		}
	});

	test('an expired or ended session is cleared from the browser; a live one is not', async () => {
		const b = await signedIn();
		const live = await b.get('/');
		expect(live.status).toBe(200);
		expect(deletion(live)).toBeUndefined();

		await app.sql`update "Session" set "expiresAt" = now() - interval '1 second'`;
		const expired = await b.get('/');
		expect(expired.status).toBe(303);
		expect(deletion(expired)).toBeDefined();
		expect(b.jar.has('librariarr_session')).toBe(false);

		const again = await signedIn();
		await app.sql`update "User" set "sessionVersion" = "sessionVersion" + 1`;
		expect(deletion(await again.get('/login'))).toBeDefined();
	});
});
