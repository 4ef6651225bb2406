// Photographs for the README (`npm run screenshots`, see playwright.screenshots.config.ts): each
// page in the state a new admin meets it, one PNG per page and viewport in docs/screenshots/,
// named `<page>-<project>.png` so the README's links stay valid from one run to the next.
import type { Page } from '@playwright/test';
import type postgres from 'postgres';
import { USERS } from '../helpers/idp.js';
import { expect, gotoReady, signIn, test, type Admin } from '../e2e/fixtures';
import { IDP } from '../e2e/steps';

const JS = true;

async function shoot(page: Page, name: string) {
	await page.screenshot({
		path: `docs/screenshots/${name}-${test.info().project.name}.png`,
		fullPage: true,
		animations: 'disabled'
	});
}

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

test('backups page, with one backup', async ({ page, admin }) => {
	await signIn(page, JS, admin);
	await gotoReady(page, '/settings/backups', JS);
	await page.getByRole('button', { name: 'Create backup' }).click();
	await expect(
		page.getByRole('status').filter({ hasText: /Backup librariarr-.* created/ })
	).toBeVisible();
	await shoot(page, 'backups');
});
