// Photographs for the README (`npm run screenshots`, see playwright.screenshots.config.ts): each
// page in the state a new admin meets it, one PNG per page and viewport in docs/screenshots/,
// named `<page>-<project>.png` so the README's links stay valid from one run to the next.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import type { Locator, Page } from '@playwright/test';
import type postgres from 'postgres';
import { USERS } from '../helpers/idp.js';
import { expect, gotoReady, signIn, test, type Admin } from '../e2e/fixtures';
import { IDP } from '../e2e/steps';

const JS = true;

/** The page's content (cropped to <main>, not the empty background), or one part of it. */
async function shoot(page: Page, name: string, part: Locator = page.locator('main')) {
	await part.screenshot({
		path: `docs/screenshots/${name}-${test.info().project.name}.png`,
		animations: 'disabled'
	});
}

const codeNow = (secret: string) =>
	generateHOTP(
		decodeBase32IgnorePadding(secret.replace(/\s/g, '')),
		BigInt(Math.floor(Date.now() / 30_000)),
		6
	);

/** Step 1 saved: OIDC against the test provider with its public client. */
async function saveConnection(sql: postgres.Sql) {
	await sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${IDP.issuer},
			"oidcClientId" = 'librariarr-public', "oidcClientAuthMethod" = 'none',
			"ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
}

/** Step 2 done: the admin linked to the provider's `grace`. */
async function link(sql: postgres.Sql, admin: Admin) {
	await sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${IDP.issuer},
			"ssoSubject" = ${USERS.username.sub}
		where id = ${admin.id}
	`;
}

async function enableSso(sql: postgres.Sql) {
	await sql`update "AppSettings" set "ssoEnabled" = true where id = 1`;
}

async function shootAuthentication(page: Page, name: string) {
	await gotoReady(page, '/settings/authentication', JS);
	await expect(page.getByRole('heading', { name: 'Single Sign-On' }).first()).toBeVisible();
	await shoot(page, name);
}

test('first-run setup', async ({ page }) => {
	await gotoReady(page, '/setup', JS);
	await shoot(page, 'setup');
});

test('login page', async ({ page, admin }) => {
	expect(admin.id).toBeGreaterThan(0);
	await gotoReady(page, '/login', JS);
	await shoot(page, 'login');
});

test('login page with SSO on', async ({ page, admin, sql }) => {
	await saveConnection(sql);
	await link(sql, admin);
	await enableSso(sql);
	await gotoReady(page, '/login', JS);
	await expect(page.getByRole('link', { name: 'Sign in with SSO' })).toBeVisible();
	await shoot(page, 'login-sso');
});

test('SSO wizard, step by step', async ({ page, admin, sql }) => {
	await signIn(page, JS, admin);
	await shootAuthentication(page, 'sso-1-start');
	await saveConnection(sql);
	await shootAuthentication(page, 'sso-2-connection-saved');
	await link(sql, admin);
	await shootAuthentication(page, 'sso-3-linked');
	await enableSso(sql);
	await shootAuthentication(page, 'sso-4-enabled');
});

test('security page', async ({ page, admin }) => {
	await signIn(page, JS, admin);
	await gotoReady(page, '/settings/security', JS);
	await shoot(page, 'security');
});

test('passkeys, authenticator app and recovery codes', async ({ page, browser, admin, sql }) => {
	await sql`
		insert into "Passkey" ("userId", "credentialId", "publicKey", "rpId", name, "createdAt", "lastUsedAt")
		values (${admin.id}, 'shot-laptop', '\\x00', 'localhost', 'Laptop', now() - interval '3 days', now() - interval '2 hours')
	`;
	await signIn(page, JS, admin);
	await gotoReady(page, '/settings/security', JS);
	await shoot(page, 'passkeys', page.getByRole('region', { name: 'Passkeys' }));
	const card = page.getByRole('region', { name: 'Authenticator app' });
	await card.getByRole('button', { name: 'Set up authenticator app' }).click();
	await expect(card.getByTestId('totp-qr').locator('svg')).toBeVisible();
	const secret = (await card.getByTestId('totp-secret').textContent())!.trim();
	await shoot(page, 'authenticator-setup', card);
	await card.getByLabel('Code from your app').fill(codeNow(secret));
	await card.getByRole('button', { name: 'Turn on' }).click();
	await expect(page.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
	await shoot(page, 'recovery-codes', page.getByRole('region', { name: 'Recovery codes' }));

	const other = await browser.newContext({ baseURL: test.info().project.use.baseURL });
	try {
		const second = await other.newPage();
		await gotoReady(second, '/login', JS);
		await second.getByLabel('Username', { exact: true }).fill(admin.username);
		await second.getByLabel('Password', { exact: true }).fill(admin.password);
		await second.getByRole('button', { name: 'Sign in', exact: true }).click();
		await expect(second.getByLabel('Code from your app')).toBeVisible();
		await shoot(second, 'authenticator-code');
		await gotoReady(second, '/login/recovery', JS);
		await shoot(second, 'recovery-sign-in');
	} finally {
		await other.close();
	}
});

test('backups page, with one backup', async ({ page, admin }) => {
	await signIn(page, JS, admin);
	await gotoReady(page, '/settings/backups', JS);
	await page.getByRole('button', { name: 'Create backup' }).click();
	await expect(
		page.getByRole('status').filter({ hasText: /Backup librariarr-.* created/ })
	).toBeVisible();
	await shoot(page, 'backups');
});
