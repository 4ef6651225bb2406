// The guide's lockout walk, end to end in the browser: an admin who signs in with SSO only, the
// identity provider unreachable, SSO_DISABLE_OVERRIDE on a restarted app, local sign-in, fixing
// the settings, then back without the override and signing in with SSO again.
import type { Page } from '@playwright/test';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';
import { contextOptions, expect, pathEquals, ready, test } from './fixtures';

const ISSUER = process.env.E2E_IDP_ISSUER ?? '';
const IDP_ORIGIN = ISSUER && new URL(ISSUER).origin;

const region = (page: Page, name: string) => page.getByRole('region', { name });

async function signInLocally(
	page: Page,
	base: string,
	jsEnabled: boolean,
	username: string,
	password: string
) {
	await page.goto(`${base}/login`);
	await ready(page, jsEnabled);
	await page.getByLabel('Username', { exact: true }).fill(username);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page).toHaveURL((url) => url.pathname === '/');
}

test('locked out of SSO: the override lets the admin in to fix it, and SSO works again once it is unset', async ({
	page,
	browser,
	sql,
	admin,
	jsEnabled
}, testInfo) => {
	test.setTimeout(90_000);
	// Working once, then the identity provider moved: SSO is on and linked, local login is off,
	// and nothing answers at the configured issuer any more.
	const dead = `http://127.0.0.1:${await freePort()}`;
	await sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${dead}, "ssoSubject" = 'grace'
		where id = ${admin.id}
	`;
	await sql`
		update "AppSettings" set "ssoEnabled" = true, "ssoMode" = 'OIDC', "oidcIssuer" = ${dead},
			"oidcClientId" = 'librariarr-public', "oidcClientSecret" = null, "localAuthEnabled" = false
	`;

	// 1. Locked out: only "Sign in with SSO", and it fails.
	await page.goto('/login');
	await ready(page, jsEnabled);
	await expect(page.getByLabel('Password', { exact: true })).toHaveCount(0);
	await page.getByRole('link', { name: 'Sign in with SSO' }).click();
	const banner = page.getByRole('alert');
	await expect(banner).toContainText('Failed to verify your identity with the SSO provider');
	// and what to do about it
	await expect(banner).toContainText('Download diagnostics');

	// 2. The app restarted with SSO_DISABLE_OVERRIDE=true: the local form is back.
	const overridden = await startServer({
		databaseUrl: process.env.E2E_DATABASE_URL ?? '',
		env: { SSO_DISABLE_OVERRIDE: 'true' }
	});
	try {
		const context = await browser.newContext(contextOptions(testInfo));
		const p = await context.newPage();
		await signInLocally(p, overridden.url, jsEnabled, admin.username, admin.password);
		await p.goto(`${overridden.url}/settings/authentication`);
		await ready(p, jsEnabled);
		await expect(p.getByText('SSO disabled by environment override.')).toBeVisible();

		// Fix: point the issuer at the provider's new address and link the identity again.
		const connection = region(p, '1. Connection');
		await connection.getByLabel('Issuer URL', { exact: true }).fill(ISSUER);
		await connection.getByRole('button', { name: 'Save Configuration' }).click();
		await expect(connection.getByRole('status')).toContainText('SSO login was switched off');
		await expect(connection.getByRole('status')).toContainText('Local sign-in was turned back on');
		const linking = region(p, '2. SSO Account Linking');
		await linking.getByText('Or paste the subject manually →').click();
		await linking.getByLabel('Subject (sub)', { exact: true }).fill('grace');
		await linking.getByRole('button', { name: 'Link Manually' }).click();
		await expect(p.getByTestId('linked-identity')).toContainText('grace');
		await context.close();
	} finally {
		await overridden.stop();
	}

	// 3. Without the override again: local sign-in works (it was turned back on), SSO is enabled
	//    again and signs the admin in through the provider.
	const context = await browser.newContext(contextOptions(testInfo));
	const p = await context.newPage();
	await signInLocally(p, '', jsEnabled, admin.username, admin.password);
	await p.goto('/settings/authentication');
	await ready(p, jsEnabled);
	const enabling = region(p, '3. Enable');
	await enabling.getByRole('switch', { name: 'Enable SSO Login' }).check();
	await enabling.getByRole('button', { name: 'Save SSO Settings' }).click();
	await expect(enabling.getByRole('status')).toContainText('SSO login is on.');
	await p.getByRole('button', { name: 'Sign out' }).click();
	await expect(p).toHaveURL(pathEquals('/login?signed_out=1'));
	await p.getByRole('link', { name: 'Sign in with SSO' }).click();
	await p.waitForURL((url) => url.origin === IDP_ORIGIN);
	await p.locator('input[name=login]').fill('grace');
	await p.locator('input[name=password]').fill('any password will do');
	await p.getByRole('button', { name: 'Sign-in' }).click();
	await p.getByRole('button', { name: 'Continue' }).click();
	await expect(p).toHaveURL((url) => url.pathname === '/');
	await expect(p.getByTestId('signed-in-method')).toHaveText('single sign-on (OIDC)');
	await context.close();
});
