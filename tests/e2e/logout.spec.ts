// Sign-out that reaches the identity provider, end to end against oidc-provider (started by
// global-setup.ts with the app's post-logout redirect URI and back-channel logout URI registered):
// RP-initiated logout, a real back-channel logout, and going straight to SSO with its exceptions.
import type { Page } from '@playwright/test';
import type postgres from 'postgres';
import { USERS } from '../helpers/idp.js';
import { expect, gotoReady, pathEquals, ready, signIn, test, type Admin } from './fixtures';
import { IDP, sessionCount, signInAtIdp } from './steps';

const ISSUER = IDP.issuer;
const IDP_ORIGIN = IDP.origin;
const SUB = USERS.username.sub;
const SIGNED_OUT = 'You have been signed out.';

/** OIDC with the public client, the admin linked to `grace`, SSO on; `extra` settings merged. */
async function configureSso(
	sql: postgres.Sql,
	admin: Admin,
	extra: { rpLogout?: boolean; autoRedirect?: boolean } = {}
) {
	await sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER},
			"oidcClientId" = 'librariarr-public', "oidcClientAuthMethod" = 'none', "ssoEnabled" = true,
			"oidcRpLogout" = ${extra.rpLogout ?? false}, "ssoAutoRedirect" = ${extra.autoRedirect ?? false},
			"ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
	await sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${ISSUER}, "ssoSubject" = ${SUB}
		where id = ${admin.id}
	`;
}

async function signInWithSso(page: Page, jsEnabled: boolean) {
	await gotoReady(page, '/login?manual=1', jsEnabled);
	await page.getByRole('link', { name: 'Sign in with SSO' }).click();
	await signInAtIdp(page, SUB);
	await expect(page).toHaveURL(pathEquals('/'));
	await expect(page.getByTestId('signed-in-method')).toHaveText('single sign-on (OIDC)');
}

test.describe('RP-initiated logout', () => {
	test('with "Also sign out at the identity provider" on, Sign out ends the session here and at the provider, then shows the signed-out notice', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await configureSso(sql, admin, { rpLogout: true });
		await signInWithSso(page, jsEnabled);
		const [row] = await sql`select "oidcIdToken", "oidcSid" from "Session"`;
		expect(row.oidcIdToken).toBeTruthy();
		expect(row.oidcSid).toBeTruthy();

		const endSession: URL[] = [];
		page.on('request', (request) => {
			const url = new URL(request.url());
			if (url.origin === IDP_ORIGIN && url.pathname === '/session/end') endSession.push(url);
		});
		await page.getByRole('button', { name: 'Sign out' }).click();
		await page.getByRole('button', { name: 'Yes, sign me out' }).click();
		// The provider adds back the state it was given.
		await expect(page).toHaveURL(
			(url) =>
				url.pathname === '/login' &&
				url.searchParams.get('signed_out') === '1' &&
				url.searchParams.get('state') === endSession[0]?.searchParams.get('state')
		);
		await expect(page.getByRole('status').filter({ hasText: SIGNED_OUT })).toHaveText(SIGNED_OUT);
		expect(await sessionCount(sql)).toBe(0);

		const params = endSession[0].searchParams;
		expect(params.get('id_token_hint')?.split('.')).toHaveLength(3);
		expect(params.get('client_id')).toBe('librariarr-public');
		expect(params.get('post_logout_redirect_uri')).toBe(
			`${test.info().project.use.baseURL}/login?signed_out=1`
		);
		expect(params.get('state')).toBeTruthy();

		// The provider's session is gone too: signing in again asks for the login there.
		await ready(page, jsEnabled);
		await page.getByRole('link', { name: 'Sign in with SSO' }).click();
		await expect(page.locator('input[name=login]')).toBeVisible();
	});

	test('with the setting off, Sign out stays on the app', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await configureSso(sql, admin);
		await signInWithSso(page, jsEnabled);
		const visitedProvider: string[] = [];
		page.on('request', (r) => {
			if (new URL(r.url()).origin === IDP_ORIGIN) visitedProvider.push(r.url());
		});
		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect(page).toHaveURL(pathEquals('/login?signed_out=1'));
		await expect(page.getByRole('status').filter({ hasText: SIGNED_OUT })).toHaveText(SIGNED_OUT);
		expect(visitedProvider).toEqual([]);
		expect(await sessionCount(sql)).toBe(0);
	});

	test('a session signed in with a password signs out on the app even with the setting on', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await signIn(page, jsEnabled, admin);
		await configureSso(sql, admin, { rpLogout: true });
		await page.reload();
		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect(page).toHaveURL(pathEquals('/login?signed_out=1'));
	});

	test('the wizard shows the post-logout redirect URI and the back-channel logout URI to register', async ({
		page,
		admin,
		jsEnabled
	}) => {
		const base = test.info().project.use.baseURL;
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/authentication', jsEnabled);
		await expect(page.getByTestId('post-logout-redirect-uri')).toHaveText(
			`${base}/login?signed_out=1`
		);
		await expect(page.getByTestId('backchannel-logout-uri')).toHaveText(
			`${base}/api/auth/sso/oidc/backchannel-logout`
		);
	});
});

test.describe('back-channel logout', () => {
	test('signing out at the provider ends the app session through a real back-channel logout', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await configureSso(sql, admin);
		await signInWithSso(page, jsEnabled);
		// The user signs out at the provider itself (as from another application).
		await page.goto(`${ISSUER}/session/end`);
		await page.getByRole('button', { name: 'Yes, sign me out' }).click();
		await expect.poll(() => sessionCount(sql)).toBe(0);
		await page.goto('/');
		await expect(page).toHaveURL((url) => url.pathname === '/login');
		const [audit] = await sql`select detail from "AuditEvent" where event = 'logout.backchannel'`;
		expect(audit.detail.sessions).toBe(1);
	});
});

test.describe('straight to SSO', () => {
	test('a signed-out visitor goes straight to the provider and comes back signed in', async ({
		page,
		admin,
		sql
	}) => {
		await configureSso(sql, admin, { autoRedirect: true });
		await page.goto('/settings/backups');
		await signInAtIdp(page, SUB);
		await expect(page).toHaveURL(pathEquals('/settings/backups'));
		expect(await sessionCount(sql)).toBe(1);
	});

	test('the login page shows itself with ?manual=1, after sign-out, with an SSO error, and within 30 seconds of the last redirect', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await configureSso(sql, admin, { autoRedirect: true });
		const ssoLink = page.getByRole('link', { name: 'Sign in with SSO' });
		for (const path of ['/login?manual=1', '/login?signed_out=1', '/login?sso_error=not_linked']) {
			await gotoReady(page, path, jsEnabled);
			await expect(page).toHaveURL(pathEquals(path));
			await expect(ssoLink).toBeVisible();
		}
		// Sent once; coming back at once (a provider that fails and returns) shows the page.
		await page.goto('/login');
		await page.waitForURL((url) => url.origin === IDP_ORIGIN);
		await gotoReady(page, '/login', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/login'));
		await expect(ssoLink).toBeVisible();
	});

	test('signing out does not send the browser straight back to the provider', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await configureSso(sql, admin);
		await signInWithSso(page, jsEnabled);
		await sql`update "AppSettings" set "ssoAutoRedirect" = true where id = 1`;
		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect(page).toHaveURL(pathEquals('/login?signed_out=1'));
		await expect(page.getByRole('status').filter({ hasText: SIGNED_OUT })).toHaveText(SIGNED_OUT);
	});

	test('step 3 offers "Send visitors straight to the identity provider" only while SSO is on, and saves both logout settings', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await signIn(page, jsEnabled, admin);
		await configureSso(sql, admin);
		await sql`update "AppSettings" set "ssoEnabled" = false where id = 1`;
		await gotoReady(page, '/settings/authentication', jsEnabled);
		const enabling = page.getByRole('region', { name: '3. Enable' });
		const straight = enabling.getByRole('checkbox', {
			name: 'Send visitors straight to the identity provider'
		});
		await expect(straight).toHaveCount(0);

		await sql`update "AppSettings" set "ssoEnabled" = true where id = 1`;
		await gotoReady(page, '/settings/authentication', jsEnabled);
		await straight.check();
		await enabling
			.getByRole('checkbox', { name: 'Also sign out at the identity provider' })
			.check();
		await enabling.getByRole('button', { name: 'Save SSO Settings' }).click();
		await expect(enabling.getByRole('status')).toContainText('SSO login is on.');
		const [row] = await sql`select "ssoAutoRedirect", "oidcRpLogout" from "AppSettings"`;
		expect(row).toEqual({ ssoAutoRedirect: true, oidcRpLogout: true });
	});
});
