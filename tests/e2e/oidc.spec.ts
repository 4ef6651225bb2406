// Single sign-on with OpenID Connect, end to end: the settings wizard (connection, Test
// Discovery, Revert to Previous, Verify & Link, manual link, unlink, enable) and signing in
// through a real OpenID Provider (oidc-provider, started by global-setup.ts).
import type { Locator, Page } from '@playwright/test';
import { CONFIDENTIAL_SECRET, USERS } from '../helpers/idp.js';
import {
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	ready,
	signIn,
	test
} from './fixtures';
import { env, IDP, serverLogFromNow, signInAtIdp, signOut } from './steps';

const SETTINGS = '/settings/authentication';

const ISSUER = IDP.issuer;
const IDP_ORIGIN = IDP.origin;
const FIXTURES = env('E2E_DISCOVERY_FIXTURES_URL');

const UUID_SUB = USERS.uuid.sub;

const SAVED = 'Configuration saved. The previous settings can be restored with Revert to Previous.';
const NOT_LINKED = 'Your SSO account is not linked to a Librariarr user';
const UNLINK_REFUSED =
	'Unlinking would leave you with no way to sign in. Set a local password (or link Plex) first.';
const SECRET_AGAIN =
	'The client secret you typed for Test Discovery is not sent back to this page: type it again, then Save Configuration.';

type Connection = {
	issuer?: string;
	clientId?: string;
	secret?: string;
	scopes?: string;
	usernameClaim?: string;
};
const CONFIDENTIAL: Connection = { clientId: 'librariarr', secret: CONFIDENTIAL_SECRET };
const PUBLIC: Connection = { clientId: 'librariarr-public' };

const step = (page: Page, n: 1 | 2 | 3) =>
	page.getByRole('region', {
		name: { 1: '1. Connection', 2: '2. SSO Account Linking', 3: '3. Enable' }[n]
	});

/** The banner with exactly this text in that region (role status or alert). */
async function expectBanner(region: Locator, role: 'status' | 'alert', text: string) {
	await expect(region.getByRole(role).filter({ hasText: text })).toHaveText(text);
}

async function openSettings(page: Page, jsEnabled: boolean) {
	await gotoReady(page, SETTINGS, jsEnabled);
	await expect(step(page, 1)).toBeVisible();
}

/** Fills step 1 (OIDC mode); the issuer defaults to the test provider. */
async function fillConnection(page: Page, c: Connection) {
	await page.getByLabel('SSO Mode').selectOption('OIDC');
	await page.getByLabel('Issuer URL', { exact: true }).fill(c.issuer ?? ISSUER);
	await page.getByLabel('Client ID', { exact: true }).fill(c.clientId ?? '');
	await page.getByLabel('Client Secret', { exact: true }).fill(c.secret ?? '');
	await page.getByLabel('Scopes', { exact: true }).fill(c.scopes ?? 'openid profile email');
	await page
		.getByLabel('Username Claim', { exact: true })
		.fill(c.usernameClaim ?? 'preferred_username');
}

async function saveConnection(page: Page, c: Connection) {
	await fillConnection(page, c);
	await page.getByRole('button', { name: 'Save Configuration' }).click();
	await expectBanner(step(page, 1), 'status', SAVED);
}

async function testDiscovery(page: Page, expected: string) {
	await page.getByRole('button', { name: 'Test Discovery' }).click();
	await expect(page.getByTestId('discovery-outcome')).toHaveText(expected);
}

/** Links `subject` through "Or paste the subject manually →". */
async function linkManually(page: Page, subject: string) {
	const linking = step(page, 2);
	await linking.getByText('Or paste the subject manually →').click();
	await linking.getByLabel('Subject (sub)', { exact: true }).fill(subject);
	await linking.getByRole('button', { name: 'Link Manually' }).click();
	await expectBanner(linking, 'status', 'Identity linked. Your other sessions were signed out.');
	await expect(page.getByTestId('linked-identity')).toContainText(subject);
}

async function enableSso(page: Page) {
	const enabling = step(page, 3);
	await enabling.getByRole('switch', { name: 'Enable SSO Login' }).check();
	await enabling.getByRole('button', { name: 'Save SSO Settings' }).click();
	await expectBanner(
		enabling,
		'status',
		'SSO login is on. Sign out and try it before relying on it.'
	);
}

/** A dangerous button: the first click only opens the confirmation, the second one posts. */
async function confirmed(region: Locator, label: string, confirmLabel: string) {
	await expect(region.getByRole('button', { name: confirmLabel })).toBeHidden();
	await region.locator('summary', { hasText: label }).click();
	await region.getByRole('button', { name: confirmLabel }).click();
}

/** Counts the browser's requests to the provider's authorization endpoint from now on. */
function countAuthorizationRequests(page: Page) {
	let count = 0;
	page.on('request', (request) => {
		const url = new URL(request.url());
		if (url.origin === IDP_ORIGIN && url.pathname === '/auth') count++;
	});
	return () => count;
}

async function appSettings(sql: import('postgres').Sql) {
	const [row] = await sql`
		select "ssoEnabled", "localAuthEnabled", "oidcIssuer", "oidcClientId", "oidcClientSecret",
			"oidcScopes", "oidcUsernameClaim", "previousSsoConfig"
		from "AppSettings" where id = 1
	`;
	return row;
}

test.describe('OIDC single sign-on', () => {
	test('the wizard goes from empty settings to a working SSO sign-in (confidential client)', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		test.slow();
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await expect(page.getByTestId('redirect-uri')).toHaveText(
			`${test.info().project.use.baseURL}/api/auth/sso/oidc/callback`
		);
		await expect(page.getByRole('button', { name: 'Revert to Previous' })).toHaveCount(0);

		// Step 1: the connection, tested, then saved.
		await expect(page.getByTestId('sso-progress')).toContainText('1. Connection: not saved yet');
		await fillConnection(page, CONFIDENTIAL);
		await testDiscovery(page, 'Discovery succeeded.');
		await expect(page.getByLabel('Issuer URL', { exact: true })).toHaveValue(ISSUER);
		const secret = page.getByLabel('Client Secret', { exact: true });
		if (jsEnabled) {
			// The form is not reset: the typed secret is still there for Save.
			await expect(secret).toHaveValue(CONFIDENTIAL_SECRET);
		} else {
			// The secret never comes back from the server, and Save says so instead of quietly
			// storing a public client.
			await expect(secret).toHaveValue('');
			await page.getByRole('button', { name: 'Save Configuration' }).click();
			await expect(page.getByText(SECRET_AGAIN)).toBeVisible();
			await expect(secret).toHaveAttribute('aria-invalid', 'true');
			expect((await appSettings(sql)).oidcIssuer).toBeNull();
			await expect(page.getByLabel('Client ID', { exact: true })).toHaveValue('librariarr');
			await secret.fill(CONFIDENTIAL_SECRET);
		}
		await page.getByRole('button', { name: 'Save Configuration' }).click();
		await expectBanner(step(page, 1), 'status', SAVED);
		await expect(page.getByTestId('sso-progress')).toContainText('1. Connection: saved ✓');
		const saved = await appSettings(sql);
		expect(saved).toMatchObject({ oidcIssuer: ISSUER, oidcClientId: 'librariarr' });
		expect(saved.oidcClientSecret).toBeTruthy();
		expect(saved.oidcClientSecret).not.toContain(CONFIDENTIAL_SECRET);

		// Step 2: Verify & Link at the provider, as the user with an opaque UUID subject.
		await page.getByRole('button', { name: 'Verify & Link via OIDC' }).click();
		await signInAtIdp(page, UUID_SUB);
		await expect(page).toHaveURL((url) => url.pathname === SETTINGS);
		await expectBanner(
			step(page, 2),
			'status',
			'Identity verified and linked. Your other sessions were signed out.'
		);
		await expect(page.getByTestId('linked-identity')).toContainText(UUID_SUB);
		await expect(page.getByTestId('linked-identity')).toContainText(ISSUER);
		await expect(page.getByTestId('sso-progress')).toContainText('2. Identity: linked ✓');

		// Step 3 says, before the switch, what signed-out visitors will get and the way back.
		const after = page.getByTestId('sso-after-switch');
		await expect(after).toContainText(
			'Once SSO is on, the login page will offer “Sign in with SSO”.'
		);
		await expect(after).toContainText('The password form is hidden while SSO is on.');
		await expect(after).toContainText('SSO_DISABLE_OVERRIDE=true');
		await expect(after).toContainText('/login?manual=1');

		// Step 3: enable.
		await ready(page, jsEnabled);
		await enableSso(page);
		await expect(page.getByTestId('sso-progress')).toContainText('3. SSO login: enabled ✓');
		expect((await appSettings(sql)).ssoEnabled).toBe(true);

		// Signed out, the login page offers SSO only.
		await signOut(page);
		await expect(page.getByRole('link', { name: 'Sign in with SSO' })).toBeVisible();
		await expect(page.getByLabel('Password', { exact: true })).toHaveCount(0);
		await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toHaveCount(0);

		// The button goes through the provider (already signed in there) and back home.
		const authorizationRequests = countAuthorizationRequests(page);
		await page.getByRole('link', { name: 'Sign in with SSO' }).click();
		await expect(page).toHaveURL(pathEquals('/'));
		expect(authorizationRequests()).toBe(1);
		await expect(page.getByTestId('signed-in-method')).toHaveText('single sign-on (OIDC)');
		await expect(page.getByTestId('signed-in-as')).toHaveText(USERS.uuid.name);
		const sessions = await sql`select "userId", method from "Session"`;
		expect(sessions).toEqual([{ userId: admin.id, method: 'oidc' }]);
	});

	test('Verify & Link works with the public client (PKCE, no secret)', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await saveConnection(page, PUBLIC);
		expect(await appSettings(sql)).toMatchObject({
			oidcClientId: 'librariarr-public',
			oidcClientSecret: null
		});

		await page.getByRole('button', { name: 'Verify & Link via OIDC' }).click();
		await signInAtIdp(page, UUID_SUB);
		await expect(page).toHaveURL((url) => url.pathname === SETTINGS);
		await expect(page.getByTestId('linked-identity')).toContainText(UUID_SUB);
		const [user] = await sql`
			select "ssoProvider", "ssoIssuer", "ssoSubject" from "User" where id = ${admin.id}
		`;
		expect(user).toEqual({ ssoProvider: 'oidc', ssoIssuer: ISSUER, ssoSubject: UUID_SUB });
	});

	test('the manual fallback: an unlinked sign-in logs the subject, which can be pasted to link', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		test.slow();
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await saveConnection(page, CONFIDENTIAL);
		await signOut(page);

		// Nobody is linked yet: the login page offers SSO next to the local form (the probe).
		await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
		const log = serverLogFromNow();
		await page.getByRole('link', { name: 'Sign in with SSO' }).click();
		await signInAtIdp(page, 'grace');
		await expect(page).toHaveURL(pathEquals('/login?sso_error=not_linked'));
		await expect(page.getByRole('alert')).toHaveText(NOT_LINKED);
		await expect.poll(log).toContain('OIDC login rejected: no linked account for sub=grace');
		const [{ count }] = await sql`select count(*)::int as count from "Session"`;
		expect(count).toBe(0);

		// Signed in locally, paste the subject from the log line.
		await signIn(page, jsEnabled, admin, { path: '/login?sso_error=not_linked' });
		await openSettings(page, jsEnabled);
		await linkManually(page, 'grace');
		await enableSso(page);
		await signOut(page);

		// The provider still knows this browser as grace: straight back, signed in.
		await page.getByRole('link', { name: 'Sign in with SSO' }).click();
		await expect(page).toHaveURL(pathEquals('/'));
		await expect(page.getByTestId('signed-in-method')).toHaveText('single sign-on (OIDC)');
		await expect(page.getByTestId('signed-in-as')).toHaveText(USERS.username.name);
	});

	test('Test Discovery reports success, a 404, an issuer mismatch and missing endpoints', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await fillConnection(page, CONFIDENTIAL);

		await testDiscovery(page, 'Discovery succeeded.');
		// What the provider offers, and nothing to warn about for this provider and form.
		const facts = page.getByTestId('discovery-facts');
		await expect(facts.getByText('PKCE S256', { exact: true })).toBeVisible();
		await expect(facts).toContainText('client_secret_basic');
		await expect(page.getByTestId('discovery-warnings')).toHaveCount(0);
		const notFound = `${FIXTURES}/nothing-here/.well-known/openid-configuration`;
		for (const [path, text] of [
			// The status first, then the URL fetched and what to check (provider-failure.ts).
			[
				'/nothing-here',
				`OIDC discovery failed (404): ${notFound} answered 404. Is this the issuer URL your provider shows, without /.well-known/openid-configuration at the end?`
			],
			[
				'/mismatch',
				`OIDC issuer mismatch: the provider reports "http://127.0.0.1:9/someone-else", but the configured issuer is "${FIXTURES}/mismatch". The issuer URL must be exactly what the provider's discovery document says.`
			],
			['/broken', 'OIDC discovery response missing required endpoints']
		]) {
			await page.getByLabel('Issuer URL', { exact: true }).fill(FIXTURES + path);
			await testDiscovery(page, text);
			await expect(page.getByTestId('discovery-result').getByRole('alert')).toHaveText(text);
			// The typed values stay; nothing is saved by a test.
			await expect(page.getByLabel('Issuer URL', { exact: true })).toHaveValue(FIXTURES + path);
			await expect(page.getByLabel('Client ID', { exact: true })).toHaveValue('librariarr');
		}
		await page.getByLabel('Issuer URL', { exact: true }).fill(ISSUER);
		await testDiscovery(page, 'Discovery succeeded.');
		await expect(page.getByTestId('discovery-result').getByRole('status')).toHaveText(
			'Discovery succeeded.'
		);
		expect(await appSettings(sql)).toMatchObject({ oidcIssuer: null, oidcClientId: null });
	});

	test('Revert to Previous restores the saved configuration before, switches SSO off and clears the snapshot', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		test.slow();
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		// A: the confidential client, linked and enabled.
		await saveConnection(page, CONFIDENTIAL);
		await linkManually(page, UUID_SUB);
		await enableSso(page);
		// B: same provider (the link still fits, so SSO stays on), other client and claims.
		await saveConnection(page, {
			clientId: 'librariarr-public',
			scopes: 'openid profile',
			usernameClaim: 'name'
		});
		expect(await appSettings(sql)).toMatchObject({
			ssoEnabled: true,
			oidcClientId: 'librariarr-public',
			oidcScopes: 'openid profile',
			oidcUsernameClaim: 'name'
		});

		const revert = step(page, 1).locator('summary', { hasText: 'Revert to Previous' });
		await expect(revert).toBeVisible();
		await confirmed(step(page, 1), 'Revert to Previous', 'Yes, revert to previous');
		await expectBanner(
			step(page, 1),
			'status',
			'Previous configuration restored. SSO login is off until you enable it again in step 3.'
		);
		await expect(page.getByLabel('Issuer URL', { exact: true })).toHaveValue(ISSUER);
		await expect(page.getByLabel('Client ID', { exact: true })).toHaveValue('librariarr');
		await expect(page.getByLabel('Scopes', { exact: true })).toHaveValue('openid profile email');
		await expect(page.getByLabel('Username Claim', { exact: true })).toHaveValue(
			'preferred_username'
		);
		await expect(page.getByLabel('Client Secret', { exact: true })).toHaveAttribute(
			'placeholder',
			'•••••••• (saved)'
		);
		await expect(page.getByRole('switch', { name: 'Enable SSO Login' })).not.toBeChecked();
		await expect(revert).toHaveCount(0);

		const settings = await appSettings(sql);
		expect(settings).toMatchObject({
			ssoEnabled: false,
			oidcClientId: 'librariarr',
			oidcScopes: 'openid profile email',
			oidcUsernameClaim: 'preferred_username',
			previousSsoConfig: null
		});
		expect(settings.oidcClientSecret).toBeTruthy();
	});

	test('Unlink SSO is refused to an admin with no password and no Plex link', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		test.slow();
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await saveConnection(page, CONFIDENTIAL);
		await linkManually(page, UUID_SUB);
		await enableSso(page);
		await signOut(page);
		await sql`update "User" set "passwordHash" = null where id = ${admin.id}`;

		// SSO is now the only way in.
		await page.getByRole('link', { name: 'Sign in with SSO' }).click();
		await signInAtIdp(page, UUID_SUB);
		await expect(page).toHaveURL(pathEquals('/'));
		await expect(page.getByTestId('signed-in-method')).toHaveText('single sign-on (OIDC)');

		await openSettings(page, jsEnabled);
		await confirmed(step(page, 2), 'Unlink SSO', 'Yes, unlink SSO');
		await expectBanner(step(page, 2), 'alert', UNLINK_REFUSED);
		await expect(page.getByTestId('linked-identity')).toContainText(UUID_SUB);
		const [user] = await sql`select "ssoSubject" from "User" where id = ${admin.id}`;
		expect(user.ssoSubject).toBe(UUID_SUB);
		expect((await appSettings(sql)).ssoEnabled).toBe(true);
	});

	test('an admin with a password can unlink: SSO goes off and the local form is back', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		test.slow();
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await saveConnection(page, CONFIDENTIAL);
		await linkManually(page, UUID_SUB);
		await enableSso(page);

		await confirmed(step(page, 2), 'Unlink SSO', 'Yes, unlink SSO');
		await expectBanner(
			step(page, 2),
			'status',
			'SSO identity unlinked and SSO login switched off. Your other sessions were signed out.'
		);
		await expect(page.getByTestId('linked-identity')).toHaveCount(0);
		const [user] = await sql`select "ssoSubject" from "User" where id = ${admin.id}`;
		expect(user.ssoSubject).toBeNull();
		expect((await appSettings(sql)).ssoEnabled).toBe(false);

		await signOut(page);
		await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
		await signIn(page, jsEnabled, admin);
	});

	test('steps 2 and 3 stay disabled, saying what to do first, until their prerequisite holds', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await expect(step(page, 2).getByText('Save the connection in step 1 first.')).toBeVisible();
		await expect(
			step(page, 2).getByRole('button', { name: 'Verify & Link via OIDC' })
		).toBeDisabled();
		await expect(step(page, 3).getByRole('switch', { name: 'Enable SSO Login' })).toBeDisabled();

		await saveConnection(page, CONFIDENTIAL);
		await expect(
			step(page, 2).getByRole('button', { name: 'Verify & Link via OIDC' })
		).toBeEnabled();
		const enabling = step(page, 3);
		await expect(enabling.getByText('Link your identity in step 2 first.')).toBeVisible();
		await expect(enabling.getByRole('switch', { name: 'Enable SSO Login' })).toBeDisabled();
		await expect(enabling.getByRole('button', { name: 'Save SSO Settings' })).toBeDisabled();
		await expect(page.getByTestId('sso-progress')).toContainText('2. Identity: not linked yet');
		expect((await appSettings(sql)).ssoEnabled).toBe(false);

		await linkManually(page, UUID_SUB);
		await expect(enabling.getByRole('switch', { name: 'Enable SSO Login' })).toBeEnabled();
		await expect(enabling.getByText('Link your identity in step 2 first.')).toHaveCount(0);
	});

	test('slow checks show that they are running (Testing…, Saving…, Verifying…)', async ({
		page,
		admin,
		jsEnabled
	}) => {
		test.skip(!jsEnabled, 'without JavaScript the browser shows its own progress');
		test.slow();
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await fillConnection(page, CONFIDENTIAL);
		// Hold each request a moment so the busy state can be seen.
		await page.route(
			(url) => url.pathname === SETTINGS && url.search.startsWith('?/'),
			async (route) => {
				await new Promise((r) => setTimeout(r, 800));
				await route.continue();
			}
		);
		const busy = async (label: string, busyLabel: string) => {
			await step(page, 1).getByRole('button', { name: label }).click();
			const running = page.getByRole('button', { name: busyLabel });
			await expect(running).toBeDisabled();
			await expect(running).toHaveAttribute('aria-busy', 'true');
		};
		await busy('Test Discovery', 'Testing…');
		await expect(page.getByTestId('discovery-outcome')).toHaveText('Discovery succeeded.');
		await busy('Save Configuration', 'Saving…');
		await expectBanner(step(page, 1), 'status', SAVED);

		await step(page, 2).getByRole('button', { name: 'Verify & Link via OIDC' }).click();
		const verifying = page.getByRole('button', { name: 'Verifying…' });
		await expect(verifying).toBeDisabled();
		await expect(verifying).toHaveAttribute('aria-busy', 'true');
		await page.waitForURL((url) => url.origin === IDP_ORIGIN);
	});

	test('Verify & Link keeps this session and signs out the others', async ({
		page,
		otherPage,
		admin,
		jsEnabled,
		sql
	}) => {
		const other = otherPage;
		await signIn(other, jsEnabled, admin);

		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await saveConnection(page, CONFIDENTIAL);
		const [{ id: sessionId }] = await sql`
				select id from "Session" where "userId" = ${admin.id} order by "createdAt" desc limit 1
			`;
		await page.getByRole('button', { name: 'Verify & Link via OIDC' }).click();
		await signInAtIdp(page, UUID_SUB);
		await expect(page).toHaveURL((url) => url.pathname === SETTINGS);
		await expect(page.getByTestId('linked-identity')).toContainText(UUID_SUB);

		// Only the session that linked is left, and this browser still uses it.
		const sessions = await sql`select id, method from "Session" where "userId" = ${admin.id}`;
		expect(sessions).toEqual([{ id: sessionId, method: 'local' }]);
		await gotoReady(page, '/', jsEnabled);
		await expect(page.getByTestId('signed-in-method')).toHaveText('local username and password');

		await other.goto('/');
		await expect(other).toHaveURL(pathEquals('/login'));
	});

	test('the SSO card passes the accessibility check, error banners included', async ({
		page,
		admin,
		jsEnabled
	}) => {
		test.slow();
		await signIn(page, jsEnabled, admin);
		await openSettings(page, jsEnabled);
		await expectNoSeriousA11yViolations(page, 'the empty SSO card', jsEnabled);

		await saveConnection(page, CONFIDENTIAL);
		await page.getByLabel('Issuer URL', { exact: true }).fill(FIXTURES + '/broken');
		await testDiscovery(page, 'OIDC discovery response missing required endpoints');
		await expectNoSeriousA11yViolations(page, 'the SSO card with a discovery error', jsEnabled);

		await openSettings(page, jsEnabled);
		await page.getByLabel('Client ID', { exact: true }).fill('');
		await page.getByRole('button', { name: 'Save Configuration' }).click();
		await expect(page.getByLabel('Client ID', { exact: true })).toHaveAttribute(
			'aria-invalid',
			'true'
		);
		await expect(page.getByText('OIDC needs the client ID.')).toBeVisible();
		await expectNoSeriousA11yViolations(page, 'the SSO card with a field error', jsEnabled);

		await openSettings(page, jsEnabled);
		await step(page, 2).getByText('Or paste the subject manually →').click();
		await expect(page.getByLabel('Subject (sub)', { exact: true })).toBeVisible();
		await step(page, 1).locator('summary', { hasText: 'Revert to Previous' }).click();
		await expectNoSeriousA11yViolations(
			page,
			'the SSO card with step 3 disabled, the manual form and a confirmation open',
			jsEnabled
		);
	});
});
