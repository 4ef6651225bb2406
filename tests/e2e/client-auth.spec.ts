// OIDC client authentication that adapts (issue 24), in the browser with JavaScript on and off:
// Verify & Link with a client whose provider compares the Basic secret without decoding it, the
// line step 1 then shows, and "Check client credentials" for each outcome (the test provider's
// quirk clients are described in tests/helpers/idp.js).
import type { Page } from '@playwright/test';
import { QUIRK_CLIENTS, RAW_BASIC_SECRET, USERS } from '../helpers/idp.js';
import { expect, expectNoSeriousA11yViolations, gotoReady, signIn, test } from './fixtures';
import { IDP, signInAtIdp } from './steps';

const SETTINGS = '/settings/authentication';
const SAVED = 'Configuration saved. The previous settings can be restored with Revert to Previous.';
const LEARNT_RAW =
	'Your provider compares the client secret without decoding it, so Librariarr sends it in HTTP Basic as it is, without form-encoding.';
const NONE_WORKS =
	'The provider refused this client ID and secret with every method it lists: check the secret (and the client ID) at the provider, and copy them again.';

const step1 = (page: Page) => page.getByRole('region', { name: '1. Connection' });

async function fill(page: Page, clientId: string, secret: string) {
	await page.getByLabel('SSO Mode').selectOption('OIDC');
	await page.getByLabel('Issuer URL', { exact: true }).fill(IDP.issuer);
	await page.getByLabel('Client ID', { exact: true }).fill(clientId);
	await page.getByLabel('Client Secret', { exact: true }).fill(secret);
}

async function check(page: Page) {
	await page.getByRole('button', { name: 'Check client credentials' }).click();
	await expect(page.getByTestId('credentials-outcome')).toBeVisible();
}

async function learnt(sql: import('postgres').Sql) {
	const [row] = await sql`select "oidcClientAuthLearnt" from "AppSettings" where id = 1`;
	return row.oidcClientAuthLearnt as string | null;
}

test.describe('OIDC client authentication', () => {
	test('a provider comparing the secret without decoding: Verify & Link works, step 1 says what was adapted, the check agrees', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, SETTINGS, jsEnabled);
		await fill(page, QUIRK_CLIENTS.rawBasic, RAW_BASIC_SECRET);
		await page.getByRole('button', { name: 'Save Configuration' }).click();
		await expect(step1(page).getByRole('status').filter({ hasText: SAVED })).toBeVisible();
		await expect(page.getByTestId('client-auth-learnt')).toHaveCount(0);

		await page.getByRole('button', { name: 'Verify & Link via OIDC' }).click();
		await signInAtIdp(page, USERS.uuid.sub);
		await expect(page).toHaveURL((url) => url.pathname === SETTINGS);
		await expect(page.getByTestId('linked-identity')).toContainText(USERS.uuid.sub);
		await expect(page.getByTestId('client-auth-learnt')).toHaveText(LEARNT_RAW);
		expect(await learnt(sql)).toBe('basic-raw');

		// The check, with the saved secret (the field left empty).
		await check(page);
		const outcome = page.getByTestId('credentials-outcome').getByRole('status');
		await expect(outcome).toContainText(
			'The provider accepted this client ID and secret. Librariarr will send them as: HTTP Basic, id and secret sent as they are'
		);
		const variants = page.getByTestId('credentials-variants');
		await expect(variants.getByRole('listitem')).toHaveCount(3);
		await expect(variants.getByRole('listitem').nth(0)).toContainText('refused');
		await expect(variants.getByRole('listitem').nth(1)).toContainText('accepted');
		await expect(page.locator('body')).not.toContainText(RAW_BASIC_SECRET);
	});

	test('a wrong secret: the check says plainly that every method was refused, and stores nothing', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, SETTINGS, jsEnabled);
		await fill(page, QUIRK_CLIENTS.rawBasic, 'not+the/secret=');
		await check(page);
		await expect(page.getByTestId('credentials-outcome').getByRole('alert')).toHaveText(NONE_WORKS);
		await expect(page.getByTestId('credentials-variants').getByRole('listitem')).toHaveCount(3);
		await expectNoSeriousA11yViolations(page, 'the credentials check report', jsEnabled);
		// Nothing was saved by the check: the typed values stay in the form, not in the settings.
		await expect(page.getByLabel('Client ID', { exact: true })).toHaveValue(QUIRK_CLIENTS.rawBasic);
		const [row] = await sql`select "oidcClientId" from "AppSettings" where id = 1`;
		expect(row.oidcClientId).toBeNull();
		expect(await learnt(sql)).toBeNull();
	});

	test('a post-only provider: the check finds the form body, with a typed secret not yet saved', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, SETTINGS, jsEnabled);
		await fill(page, QUIRK_CLIENTS.postOnly, RAW_BASIC_SECRET);
		await check(page);
		await expect(page.getByTestId('credentials-outcome').getByRole('status')).toContainText(
			'Librariarr will send them as: Form body (client_secret_post).'
		);
		const secret = page.getByLabel('Client Secret', { exact: true });
		// As with Test Discovery: the typed secret stays with JavaScript, and is never sent back
		// to the page without it.
		await expect(secret).toHaveValue(jsEnabled ? RAW_BASIC_SECRET : '');
	});
});
