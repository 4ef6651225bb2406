// Forward-auth sign-in behind REAL reverse proxies: nginx (auth_request) and Caddy (forward_auth),
// each in front of an app instance that trusts 127.0.0.1, with an auth stub playing Authelia /
// Authentik / oauth2-proxy (see tests/e2e/proxies.ts). Every test runs once per proxy, and, like
// every spec, with JavaScript on and off.
import type { Page } from '@playwright/test';
import type postgres from 'postgres';
import { expectNoSeriousA11yViolations, pathEquals, ready } from './fixtures';
import {
	displayNameOf,
	emailOf,
	expect,
	MODE_HEADERS,
	setStubUser,
	test,
	type ProxyName,
	type StubMode
} from './proxies';

const BANNER = {
	missing: 'Forward-auth proxy did not provide a user identity header',
	notLinked: 'Your SSO account is not linked to a Librariarr user',
	untrusted: 'did not come through a trusted proxy'
};
const FORWARD_METHOD = 'single sign-on (forward auth)';

/** Forward-auth mode with the header names of `mode`, SSO on or off. */
async function configureForward(sql: postgres.Sql, mode: StubMode, enabled = true) {
	const h = MODE_HEADERS[mode];
	await sql`
		update "AppSettings" set "ssoMode" = 'FORWARD_AUTH', "ssoEnabled" = ${enabled},
			"forwardAuthUserHeader" = ${h.user}, "forwardAuthEmailHeader" = ${h.email},
			"forwardAuthNameHeader" = ${h.name}, "ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
}

/** The SSO columns back to a fresh install's, so that no other spec meets forward-auth mode. */
async function restoreSsoDefaults(sql: postgres.Sql) {
	await sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "ssoEnabled" = false, "oidcIssuer" = null,
			"oidcClientId" = null, "oidcClientSecret" = null, "forwardAuthUserHeader" = 'Remote-User',
			"forwardAuthEmailHeader" = 'Remote-Email', "forwardAuthNameHeader" = 'Remote-Name',
			"previousSsoConfig" = null
		where id = 1
	`;
}

async function linkForward(sql: postgres.Sql, userId: number, subject: string) {
	await sql`
		update "User" set "ssoProvider" = 'forward-auth', "ssoIssuer" = 'forward-auth',
			"ssoSubject" = ${subject}
		where id = ${userId}
	`;
}

/** A second user, linked to `subject`, with no password (reached only through SSO). */
async function insertLinkedUser(sql: postgres.Sql, username: string, subject: string) {
	const [user] = await sql<{ id: number }[]>`
		insert into "User" (username, "ssoProvider", "ssoIssuer", "ssoSubject")
		values (${username}, 'forward-auth', 'forward-auth', ${subject})
		returning id
	`;
	return user.id;
}

async function sessions(sql: postgres.Sql) {
	return sql<{ userId: number; method: string; ssoSubject: string | null }[]>`
		select "userId", method, "ssoSubject" from "Session" order by id
	`;
}

async function forwardAudits(sql: postgres.Sql) {
	return sql<{ event: string }[]>`
		select event from "AuditEvent" where method = 'forward-auth' order by id
	`;
}

/** Goes to the login page through the proxy and clicks "Sign in with SSO". */
async function signInWithSso(page: Page, base: string, jsEnabled: boolean) {
	await page.goto(`${base}/login`);
	await ready(page, jsEnabled);
	await page.getByRole('link', { name: 'Sign in with SSO' }).click();
}

async function expectSignedInThroughProxy(page: Page, user: string) {
	await expect(page).toHaveURL(pathEquals('/'));
	await expect(page.getByTestId('signed-in-method')).toHaveText(FORWARD_METHOD);
	await expect(page.getByTestId('signed-in-as')).toHaveText(displayNameOf(user));
	await expect(page.getByTestId('signed-in-email')).toHaveText(emailOf(user));
}

async function expectLoginBanner(page: Page, code: string, text: string) {
	await expect(page).toHaveURL(pathEquals(`/login?sso_error=${code}`));
	await expect(page.getByRole('alert')).toContainText(text);
}

for (const proxyName of ['nginx', 'caddy'] as ProxyName[]) {
	test.describe(`forward auth behind ${proxyName}`, () => {
		let base: string;
		/** Where the app sends a request whose proxy copied no user header from the auth answer. */
		let noUserHeader: { code: string; text: string };

		test.beforeEach(async ({ forward, sql, context }) => {
			const proxy = await forward.proxy(proxyName);
			base = proxy.url;
			// nginx (and Caddy from 2.9) leave the header out: "no user header". Caddy before 2.9
			// sends the literal "{http.reverse_proxy.header.…}" text instead, which is no linked
			// user: refused as not linked. Either way nobody is signed in.
			noUserHeader =
				proxy.missingCopiedHeader === 'absent'
					? { code: 'missing_user_header', text: BANNER.missing }
					: { code: 'not_linked', text: BANNER.notLinked };
			forward.stub.mode = 'remote';
			forward.stub.seen.length = 0;
			await restoreSsoDefaults(sql);
			await setStubUser(context, null);
		});
		test.afterEach(async ({ sql, forward }, testInfo) => {
			await restoreSsoDefaults(sql);
			if (testInfo.status !== testInfo.expectedStatus) {
				// What the proxy and the app behind it said, for reading after a failure.
				const proxy = await forward.proxy(proxyName).catch(() => null);
				if (proxy) await testInfo.attach(`${proxyName}.log`, { body: proxy.logs() });
				await testInfo.attach('app-behind-proxy.log', { body: forward.app.logs() });
				await testInfo.attach('auth-stub.json', {
					body: JSON.stringify(forward.stub.seen, null, 2)
				});
			}
		});

		test('default Remote-* headers: the linked user signs in with name and email; no proxy session, no app', async ({
			page,
			context,
			admin,
			sql,
			jsEnabled
		}) => {
			await configureForward(sql, 'remote');
			await linkForward(sql, admin.id, 'alice');

			// Signed out at the proxy: the proxy answers 401 itself and the app never hears of it.
			const refused = await page.goto(`${base}/api/auth/sso/forward`);
			expect(refused?.status()).toBe(401);
			expect(await page.content()).not.toContain('Librariarr');
			expect(await sessions(sql)).toEqual([]);
			expect(await forwardAudits(sql)).toEqual([]);

			await setStubUser(context, 'alice');
			await signInWithSso(page, base, jsEnabled);
			await expectSignedInThroughProxy(page, 'alice');
			expect(await sessions(sql)).toEqual([
				{ userId: admin.id, method: 'forward-auth', ssoSubject: 'alice' }
			]);
		});

		for (const mode of ['authentik', 'oauth2'] as const) {
			test(`${mode} header overrides are read, and the default Remote-User is then ignored`, async ({
				page,
				context,
				admin,
				sql,
				forward,
				jsEnabled
			}) => {
				await configureForward(sql, mode);
				await linkForward(sql, admin.id, 'alice');
				await setStubUser(context, 'alice');

				// The proxy sends Remote-User (an Authelia set-up) while the app expects the override.
				forward.stub.mode = 'remote';
				await signInWithSso(page, base, jsEnabled);
				await expectLoginBanner(page, noUserHeader.code, noUserHeader.text);
				expect(await sessions(sql)).toEqual([]);

				forward.stub.mode = mode;
				await page.getByRole('link', { name: 'Sign in with SSO' }).click();
				await expectSignedInThroughProxy(page, 'alice');
			});
		}

		test('a client-sent Remote-User is replaced by the proxy, never believed', async ({
			page,
			context,
			admin,
			sql,
			jsEnabled
		}) => {
			await configureForward(sql, 'remote');
			await linkForward(sql, admin.id, 'alice');
			const malloryId = await insertLinkedUser(sql, 'Mallory', 'mallory');
			await context.setExtraHTTPHeaders({
				'Remote-User': 'mallory',
				'Remote-Name': 'Mallory Forged',
				'Remote-Email': 'mallory@example.test'
			});

			// The auth server says alice: the session is alice's.
			await setStubUser(context, 'alice');
			await signInWithSso(page, base, jsEnabled);
			await expectSignedInThroughProxy(page, 'alice');
			expect(await sessions(sql)).toEqual([
				{ userId: admin.id, method: 'forward-auth', ssoSubject: 'alice' }
			]);
			await sql`delete from "Session"`;

			// Not signed in at the auth server: the proxy refuses, mallory's header goes nowhere.
			await setStubUser(context, null);
			const refused = await page.goto(`${base}/api/auth/sso/forward`);
			expect(refused?.status()).toBe(401);
			expect(await sessions(sql)).toEqual([]);

			// The auth server lets the request through without naming anyone (a "bypass" rule): the
			// client's header must still not reach the app as an identity.
			await setStubUser(context, '-');
			await page.goto(`${base}/api/auth/sso/forward`);
			await expectLoginBanner(page, noUserHeader.code, noUserHeader.text);
			await expect(page.getByText('Mallory')).toHaveCount(0);
			const after = await sessions(sql);
			expect(after.filter((s) => s.userId === malloryId)).toEqual([]);
			expect(after).toEqual([]);
		});

		test('an unlinked user is told the account is not linked', async ({
			page,
			context,
			admin,
			sql,
			jsEnabled
		}) => {
			await configureForward(sql, 'remote');
			await linkForward(sql, admin.id, 'alice');
			await setStubUser(context, 'bob');
			await signInWithSso(page, base, jsEnabled);
			await expectLoginBanner(page, 'not_linked', BANNER.notLinked);
			expect(await sessions(sql)).toEqual([]);
		});

		test('the session is bound to the proxy: another user at the proxy, or the app reached directly, ends it', async ({
			page,
			context,
			browser,
			admin,
			sql,
			jsEnabled
		}, testInfo) => {
			await configureForward(sql, 'remote');
			await linkForward(sql, admin.id, 'alice');
			await setStubUser(context, 'alice');
			await signInWithSso(page, base, jsEnabled);
			await expectSignedInThroughProxy(page, 'alice');

			// The proxy now signs bob in (alice signed out there, bob signed in): alice's session ends.
			await setStubUser(context, 'bob');
			await page.goto(`${base}/`);
			await expect(page).toHaveURL(pathEquals('/login'));
			expect(await sessions(sql)).toEqual([]);
			// …and stays ended when alice is back at the proxy without signing in here again.
			await setStubUser(context, 'alice');
			await page.goto(`${base}/settings/authentication`);
			await expect(page).toHaveURL((url) => url.pathname === '/login');

			// A fresh forward-auth session; its cookie, replayed straight at the app (not through the
			// proxy), from another browser, does not open the home page, and ends the session.
			await signInWithSso(page, base, jsEnabled);
			await expectSignedInThroughProxy(page, 'alice');
			const cookie = (await context.cookies(base)).find((c) => c.name === 'librariarr_session');
			expect(cookie?.value).toBeTruthy();
			const direct = process.env.E2E_BASE_URL!;
			const thief = await browser.newContext({
				javaScriptEnabled: testInfo.project.use.javaScriptEnabled
			});
			try {
				await thief.addCookies([
					{ name: 'librariarr_session', value: cookie!.value, domain: '127.0.0.1', path: '/' }
				]);
				const other = await thief.newPage();
				await other.goto(`${direct}/`);
				await expect(other).toHaveURL((url) => url.pathname === '/login');
				await expect(other.getByTestId('signed-in-as')).toHaveCount(0);
			} finally {
				await thief.close();
			}
			expect(await sessions(sql)).toEqual([]);
			await page.goto(`${base}/settings/authentication`);
			await expect(page).toHaveURL((url) => url.pathname === '/login');
		});

		test('identity headers sent straight to the app (no proxy, untrusted peer) never sign in', async ({
			page,
			context,
			admin,
			sql,
			jsEnabled
		}) => {
			await configureForward(sql, 'remote');
			await linkForward(sql, admin.id, 'alice');
			await context.setExtraHTTPHeaders({
				'Remote-User': 'alice',
				'Remote-Name': 'Alice Forged',
				'Remote-Email': 'alice@example.test'
			});
			const direct = process.env.E2E_BASE_URL!;
			await page.goto(`${direct}/login`);
			await ready(page, jsEnabled);
			await page.getByRole('link', { name: 'Sign in with SSO' }).click();
			await expectLoginBanner(page, 'untrusted_proxy', BANNER.untrusted);
			expect(await sessions(sql)).toEqual([]);
			// The same request through the proxy (which overwrites the headers) does sign in.
			await setStubUser(context, 'alice');
			await signInWithSso(page, base, jsEnabled);
			await expectSignedInThroughProxy(page, 'alice');
		});

		test('set up through the UI behind the proxy: configure, link this request, enable, sign in with SSO', async ({
			page,
			context,
			admin,
			sql,
			forward,
			jsEnabled
		}) => {
			// nginx: Authelia's header names (the defaults); Caddy: the Authentik outpost preset.
			const mode: StubMode = proxyName === 'nginx' ? 'remote' : 'authentik';
			const preset = proxyName === 'nginx' ? 'Authelia' : 'Authentik outpost';
			forward.stub.mode = mode;
			// The proxy guards every path: the admin is signed in at the auth server as alice.
			await setStubUser(context, 'alice');

			await page.goto(`${base}/login`);
			await ready(page, jsEnabled);
			await page.getByLabel('Username', { exact: true }).fill(admin.username);
			await page.getByLabel('Password', { exact: true }).fill(admin.password);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page).toHaveURL(pathEquals('/'));

			await page.goto(`${base}/settings/authentication`);
			await ready(page, jsEnabled);
			await page.getByLabel('SSO Mode').selectOption('FORWARD_AUTH');
			const panel = page.getByTestId('forward-panel');
			await expect(panel).toBeVisible();
			await page.getByRole('button', { name: preset, exact: true }).click();
			await expect(
				page.getByRole('status').filter({ hasText: `${preset} header names filled in` })
			).toBeVisible();
			const h = MODE_HEADERS[mode];
			await expect(page.getByLabel('User Header', { exact: true })).toHaveValue(h.user);
			await expect(page.getByLabel('Email Header', { exact: true })).toHaveValue(h.email);
			await expect(page.getByLabel('Name Header', { exact: true })).toHaveValue(h.name);
			await page.getByRole('button', { name: 'Save Configuration' }).click();
			await expect(page.getByText('Configuration saved.')).toBeVisible();

			// The panel describes this very request: it came through the trusted proxy, as alice.
			if (jsEnabled) await page.reload();
			await ready(page, jsEnabled);
			await expect(panel).toContainText('This request came from 127.0.0.1: a trusted proxy.');
			await expect(panel).toContainText('User header of this request: alice');
			await expect(page.getByTestId('trust-line')).toHaveCount(0);

			await page.getByRole('button', { name: 'Link the identity of this request' }).click();
			await expect(page.getByText('Linked alice.')).toBeVisible();
			await expect(page.getByTestId('linked-identity')).toContainText('alice');

			await page.getByRole('switch', { name: 'Enable SSO Login' }).check();
			await page.getByRole('button', { name: 'Save SSO Settings' }).click();
			await expect(page.getByText('SSO login is on.')).toBeVisible();
			const [settings] = await sql`
				select "ssoMode", "ssoEnabled", "forwardAuthUserHeader" from "AppSettings" where id = 1
			`;
			expect(settings).toEqual({
				ssoMode: 'FORWARD_AUTH',
				ssoEnabled: true,
				forwardAuthUserHeader: h.user
			});

			await page.getByRole('button', { name: 'Sign out' }).click();
			await expect(page).toHaveURL((url) => url.pathname === '/login');
			await ready(page, jsEnabled);
			await page.getByRole('link', { name: 'Sign in with SSO' }).click();
			await expectSignedInThroughProxy(page, 'alice');
			await expect(page.getByRole('heading', { level: 1 })).toHaveText(
				`Hello, ${displayNameOf('alice')}`
			);
		});

		test('the settings page in forward-auth mode passes the accessibility check', async ({
			page,
			context,
			admin,
			sql,
			jsEnabled
		}) => {
			await configureForward(sql, 'remote', false);
			await setStubUser(context, 'alice');
			await page.goto(`${base}/login`);
			await ready(page, jsEnabled);
			await page.getByLabel('Username', { exact: true }).fill(admin.username);
			await page.getByLabel('Password', { exact: true }).fill(admin.password);
			await page.getByRole('button', { name: 'Sign in' }).click();
			await expect(page).toHaveURL(pathEquals('/'));
			await page.goto(`${base}/settings/authentication`);
			await ready(page, jsEnabled);
			await expect(page.getByTestId('forward-panel')).toContainText('a trusted proxy');
			await expect(page.getByLabel('User Header', { exact: true })).toBeVisible();
			await expect(page.getByLabel('Issuer URL')).toBeHidden();
			await expectNoSeriousA11yViolations(
				page,
				`/settings/authentication in forward-auth mode behind ${proxyName}`,
				jsEnabled
			);
		});
	});
}

test.describe('forward auth reached without the proxy', () => {
	test.afterEach(async ({ sql }) => restoreSsoDefaults(sql));

	test('switching SSO on is refused with a message that says why, and SSO stays off', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await configureForward(sql, 'remote', false);
		await linkForward(sql, admin.id, 'alice');
		// The app as reached directly trusts no proxy (TRUSTED_PROXIES empty), whatever it is sent.
		await page.setExtraHTTPHeaders({ 'Remote-User': 'alice' });
		await page.goto(`${process.env.E2E_BASE_URL}/login`);
		await ready(page, jsEnabled);
		await page.getByLabel('Username', { exact: true }).fill(admin.username);
		await page.getByLabel('Password', { exact: true }).fill(admin.password);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect(page).toHaveURL(pathEquals('/'));
		await page.goto(`${process.env.E2E_BASE_URL}/settings/authentication`);
		await ready(page, jsEnabled);

		await page.getByRole('switch', { name: 'Enable SSO Login' }).check();
		await page.getByRole('button', { name: 'Save SSO Settings' }).click();
		await expect(page.getByRole('alert')).toContainText(
			'Forward-auth SSO can only be switched on through your authenticating proxy'
		);
		const [settings] = await sql`select "ssoEnabled" from "AppSettings" where id = 1`;
		expect(settings.ssoEnabled).toBe(false);
		// Signing out leaves the password form on the login page.
		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect(page).toHaveURL((url) => url.pathname === '/login');
		await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
	});
});
