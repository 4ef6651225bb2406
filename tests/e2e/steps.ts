// Steps that more than one e2e spec takes: reading what global-setup.ts put in the environment,
// the identity provider's own pages, signing out, and counting sessions. Fixtures (database
// reset, the admin, signing in with a password) are in fixtures.ts.
import fs from 'node:fs';
import type { Page } from '@playwright/test';
import type postgres from 'postgres';
import { expect, pathEquals } from './fixtures';

/** A value global-setup.ts exported, or a clear error when the spec runs without it. */
export function env(name: string): string {
	const value = process.env[name];
	if (!value) throw new Error(`${name} is not set: is tests/e2e/global-setup.ts running?`);
	return value;
}

/** The test OpenID Provider (oidc-provider) that global-setup.ts started. */
export const IDP = {
	get issuer() {
		return env('E2E_IDP_ISSUER');
	},
	get origin() {
		return new URL(env('E2E_IDP_ISSUER')).origin;
	}
};

/** On the provider's own pages: its login form (any password does), then its consent page. */
export async function signInAtIdp(page: Page, login: string) {
	await page.waitForURL((url) => url.origin === IDP.origin);
	await page.locator('input[name=login]').fill(login);
	await page.locator('input[name=password]').fill('any password will do');
	await page.getByRole('button', { name: 'Sign-in' }).click();
	await page.getByRole('button', { name: 'Continue' }).click();
}

/** Presses the header's Sign out and lands on the login page's signed-out notice. */
export async function signOut(page: Page) {
	await page.getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL(pathEquals('/login?signed_out=1'));
}

export async function sessionCount(sql: postgres.Sql): Promise<number> {
	const [row] = await sql<{ n: number }[]>`select count(*)::int as n from "Session"`;
	return row.n;
}

/** The app server's output from this point on (global-setup appends it to a file as it comes). */
export function serverLogFromNow() {
	const file = env('E2E_SERVER_LOG');
	const start = fs.statSync(file).size;
	return () => fs.readFileSync(file).subarray(start).toString('utf8');
}
