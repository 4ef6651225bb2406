// What every e2e test shares: a clean database before each test, an admin to sign in with,
// and small helpers (hydration wait, signing in, the accessibility check).
import AxeBuilder from '@axe-core/playwright';
import { hash } from '@node-rs/argon2';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import postgres from 'postgres';

export { expect };

export type Admin = { displayName: string; username: string; password: string; id: number };

export const DEFAULT_ADMIN = {
	displayName: 'Ada Admin',
	username: 'admin',
	password: 'correct horse battery'
};

const ARGON2_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

function databaseUrl(): string {
	const url = process.env.E2E_DATABASE_URL;
	if (!url) throw new Error('E2E_DATABASE_URL is not set: is tests/e2e/global-setup.ts running?');
	return url;
}

/** Empties what a test can change, so each one starts from a first-run install. */
export async function resetDatabase(sql: postgres.Sql) {
	await sql.begin(async (tx) => {
		await tx`delete from "Session"`;
		await tx`delete from "Throttle"`;
		await tx`delete from "AuditEvent"`;
		await tx`delete from "UsedSignInFlow"`;
		await tx`delete from "PendingSignIn"`;
		await tx`delete from "RecoveryCode"`;
		await tx`delete from "Passkey"`;
		await tx`delete from "User"`;
		await tx`delete from "AlertChannel"`;
		await tx`update "AlertSettings" set events = default`;
		await tx`
			update "AppSettings"
			set "localAuthEnabled" = true, "plexLoginEnabled" = false, "ssoEnabled" = false,
				"ssoMode" = 'OIDC', "oidcIssuer" = null, "oidcClientId" = null, "oidcClientSecret" = null,
				"oidcClientAuthMethod" = 'auto', "oidcClientAuthLearnt" = null,
				"oidcScopes" = 'openid profile email', "oidcUsernameClaim" = 'preferred_username',
				"forwardAuthUserHeader" = 'Remote-User', "forwardAuthEmailHeader" = 'Remote-Email',
				"forwardAuthNameHeader" = 'Remote-Name', "previousSsoConfig" = null,
				"oidcRpLogout" = false, "ssoAutoRedirect" = false, "ssoButtonText" = 'Sign in with SSO',
				"auditRetentionDays" = 90, "passkeyLoginEnabled" = true, "ssoRequiredClaim" = '',
				"ssoRequiredClaimValues" = '{}', "sessionLifetimeHours" = 720, "sessionIdleHours" = null,
				"ssoMfaRequired" = false, "ssoMfaAmr" = '{mfa,otp,hwk,swk,fpt,sms}', "ssoMfaAcr" = '{}',
				"ssoMfaMaxAgeMinutes" = 720,
				-- Moved on, never back: the server caches discovery documents per version.
				"ssoConfigVersion" = "ssoConfigVersion" + 1
			where id = 1
		`;
	});
}

/** Inserts a user with a local password hashed the way the app hashes it (argon2id). */
export async function insertAdmin(
	sql: postgres.Sql,
	{ displayName, username, password } = DEFAULT_ADMIN
): Promise<Admin> {
	const passwordHash = await hash(password, ARGON2_OPTIONS);
	const [user] = await sql<{ id: number }[]>`
		insert into "User" (username, "localUsername", "passwordHash")
		values (${displayName}, ${username.toLowerCase()}, ${passwordHash})
		returning id
	`;
	return { displayName, username, password, id: user.id };
}

type TestFixtures = {
	/** A connection to the app's database, emptied before the test starts. */
	sql: postgres.Sql;
	/** An administrator with a local password (inserted straight into the database). */
	admin: Admin;
	/** Whether this project runs the browser with JavaScript. */
	jsEnabled: boolean;
	/** A second browser with its own cookies (another device), closed after the test. */
	otherPage: Page;
};
type WorkerFixtures = { workerSql: postgres.Sql };

export const test = base.extend<TestFixtures, WorkerFixtures>({
	workerSql: [
		// eslint-disable-next-line no-empty-pattern
		async ({}, use) => {
			const sql = postgres(databaseUrl(), { max: 2, onnotice: () => {} });
			await use(sql);
			await sql.end();
		},
		{ scope: 'worker' }
	],
	sql: [
		async ({ workerSql }, use) => {
			await resetDatabase(workerSql);
			await use(workerSql);
		},
		{ auto: true }
	],
	admin: async ({ sql }, use) => {
		await use(await insertAdmin(sql));
	},
	jsEnabled: async ({ javaScriptEnabled }, use) => {
		await use(javaScriptEnabled !== false);
	},
	otherPage: async ({ browser }, use, testInfo) => {
		const context = await browser.newContext(contextOptions(testInfo));
		await use(await context.newPage());
		await context.close();
	}
});

/** Options for a second browser context that behaves like this project's own. */
export function contextOptions(testInfo: TestInfo) {
	return {
		baseURL: testInfo.project.use.baseURL,
		javaScriptEnabled: testInfo.project.use.javaScriptEnabled
	};
}

/**
 * With JavaScript on, waits until the root layout has mounted (forms are enhanced from then
 * on); with it off there is nothing to wait for.
 */
export async function ready(page: Page, jsEnabled: boolean) {
	if (jsEnabled) await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' });
}

export async function gotoReady(page: Page, path: string, jsEnabled: boolean) {
	await page.goto(path);
	await ready(page, jsEnabled);
}

/** Signs in through the login form and waits for the page it leads to. */
export async function signIn(
	page: Page,
	jsEnabled: boolean,
	{ username, password }: { username: string; password: string },
	{ path = '/login', expectPath = '/' }: { path?: string; expectPath?: string } = {}
) {
	await gotoReady(page, path, jsEnabled);
	await page.getByLabel('Username', { exact: true }).fill(username);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByRole('button', { name: 'Sign in', exact: true }).click();
	await expect(page).toHaveURL(pathEquals(expectPath));
}

/** Matches a URL whose path (and query, when given) is exactly `path`. */
export function pathEquals(path: string) {
	return (url: URL) => url.pathname + url.search === path;
}

/**
 * Runs axe on the current page and fails on any violation of impact "serious" or "critical",
 * listing each one with the elements it was found on.
 *
 * axe runs inside the page, which a page with JavaScript turned off cannot do. For those, the
 * page's current DOM is served, scripts removed, at the same URL to a scratch page that may run
 * scripts, with the page's cookies (the app's stylesheets still come from the server, so
 * contrast is judged as shown).
 */
export async function expectNoSeriousA11yViolations(page: Page, what: string, jsEnabled: boolean) {
	const results = jsEnabled
		? await new AxeBuilder({ page }).analyze()
		: await analyzeWithoutPageScripts(page);
	const serious = results.violations.filter(
		(v) => v.impact === 'serious' || v.impact === 'critical'
	);
	const report = serious
		.map((v) => {
			const nodes = v.nodes
				.map(
					(n) =>
						`    - ${n.target.join(' ')}\n      ${n.failureSummary?.replace(/\n/g, '\n      ')}`
				)
				.join('\n');
			return `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n${nodes}`;
		})
		.join('\n');
	expect(
		serious.map((v) => `${v.impact} ${v.id}`),
		`Accessibility violations on ${what}:\n${report}`
	).toEqual([]);
}

async function analyzeWithoutPageScripts(page: Page) {
	const url = page.url();
	const html = (await page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '');
	const browser = page.context().browser();
	if (!browser) throw new Error('No browser to run axe in');
	const scratch = await browser.newContext({ javaScriptEnabled: true });
	try {
		// The stylesheets load as they did for the page itself (behind an authenticating proxy, a
		// browser without its cookies would get the proxy's 401 instead of the CSS).
		await scratch.addCookies(await page.context().cookies());
		await scratch.route(url, (route) =>
			route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html })
		);
		const copy = await scratch.newPage();
		await copy.goto(url);
		return await new AxeBuilder({ page: copy }).analyze();
	} finally {
		await scratch.close();
	}
}
