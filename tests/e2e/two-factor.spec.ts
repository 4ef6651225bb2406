// The authenticator app (TOTP) and recovery codes in a real browser, JavaScript on and off: codes
// are computed here with @oslojs/otp from the secret the page shows as text, as an app would.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import type { Locator, Page } from '@playwright/test';
import fs from 'node:fs';
import { freePort } from '../helpers/pg.js';
import {
	contextOptions,
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	ready,
	signIn,
	test
} from './fixtures';

const codeAt = (secret: string, step: bigint) =>
	generateHOTP(decodeBase32IgnorePadding(secret.replace(/\s/g, '')), step, 6);

const stepNow = () => BigInt(Math.floor(Date.now() / 30_000));

/**
 * The step for the next code of a test: later than `last` (the app refuses a used or an earlier
 * step) and inside the app's window of one step either side of now, as late as the clock allows so
 * that it stays good if a step boundary passes on the way to the server. When the next free step
 * is still two ahead, this waits for the clock (at most one step).
 */
async function nextStep(last: bigint | null): Promise<bigint> {
	const step = last === null || last < stepNow() ? stepNow() : last + 1n;
	while (step > stepNow() + 1n) await new Promise((r) => setTimeout(r, 250));
	return step;
}

/** `what` (a page, or one card of it) fits a 360 px phone: nothing sticks out or scrolls sideways. */
async function expectFitsPhone(page: Page, what: string, part: Locator = page.locator('body')) {
	await page.setViewportSize({ width: 360, height: 740 });
	const box = await part.evaluate((e) => ({
		right: Math.round(e.getBoundingClientRect().right),
		overflow: e.scrollWidth - e.clientWidth
	}));
	expect(box.right, `${what} on a 360 px phone`).toBeLessThanOrEqual(360);
	expect(box.overflow, `${what} scrolls sideways`).toBeLessThanOrEqual(0);
	await page.setViewportSize({ width: 1280, height: 720 });
}

test('turn the authenticator app on, sign in with its code, turn it off', async ({
	page,
	browser,
	admin,
	jsEnabled
}, testInfo) => {
	test.setTimeout(120_000);
	await signIn(page, jsEnabled, admin);
	await gotoReady(page, '/settings/security', jsEnabled);
	const card = page.getByRole('region', { name: 'Authenticator app' });
	await expect(card.getByTestId('totp-status')).toHaveText('Off.');
	await card.getByRole('button', { name: 'Set up authenticator app' }).click();
	await expect(card.getByTestId('totp-qr').locator('svg')).toBeVisible();
	const secret = (await card.getByTestId('totp-secret').textContent())!.trim();
	expect(secret.replace(/\s/g, '')).toMatch(/^[A-Z2-7]{32}$/);
	await expectNoSeriousA11yViolations(page, 'the authenticator setup', jsEnabled);
	await expectFitsPhone(page, 'the authenticator setup', card);

	// Three steps in a row from here, each accepted once: on, sign-in, off (see nextStep).
	await card.getByLabel('Code from your app').fill('123 456');
	await card.getByRole('button', { name: 'Turn on' }).click();
	await expect(card.getByRole('alert')).toContainText('That code is not right');
	const on = await nextStep(null);
	await card.getByLabel('Code from your app').fill(codeAt(secret, on));
	await card.getByRole('button', { name: 'Turn on' }).click();
	await expect(card.getByRole('status')).toContainText('The authenticator app is on');
	await expect(card.getByTestId('totp-status')).toContainText('On since');

	// Recovery codes are offered at once, shown once, and as a file.
	const codes = page.getByTestId('recovery-codes').locator('li');
	await expect(codes).toHaveCount(10);
	const first = (await codes.first().textContent())!.trim();
	expect(first).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
	const download = page.waitForEvent('download');
	await page.getByRole('button', { name: 'Download as a text file' }).click();
	const file = await download;
	expect(file.suggestedFilename()).toBe('librariarr-recovery-codes.txt');
	const text = fs.readFileSync((await file.path())!, 'utf8');
	expect(text).toContain(first);
	// The file and the page name the server's full address; the page links to it.
	const recoveryAt = `${new URL(process.env.E2E_BASE_URL!).origin}/login/recovery`;
	expect(text).toContain(`at ${recoveryAt} (with your username)`);
	await expect(page.getByRole('link', { name: recoveryAt })).toHaveAttribute(
		'href',
		'/login/recovery'
	);

	// Another browser: the password leads to the code page, not in.
	let signInStep = on;
	const other = await browser.newContext(contextOptions(testInfo));
	try {
		const second = await other.newPage();
		await signIn(second, jsEnabled, admin, { expectPath: '/login/code' });
		await ready(second, jsEnabled);
		await expectNoSeriousA11yViolations(second, '/login/code', jsEnabled);
		await expectFitsPhone(second, '/login/code');
		// The step that turned the app on is used; one still inside the window shows it. (Under a
		// slow machine two steps may have passed: then no used step is left to try, and the refusal
		// of a used step stays covered by tests/integration/two-factor.test.ts.)
		if (on >= stepNow() - 1n) {
			await second.getByLabel('Code from your app').fill(codeAt(secret, on));
			await second.getByRole('button', { name: 'Continue' }).click();
			await expect(second.getByRole('alert')).toContainText('already used');
		}
		signInStep = await nextStep(on);
		await second.getByLabel('Code from your app').fill(codeAt(secret, signInStep));
		await second.getByRole('button', { name: 'Continue' }).click();
		await expect(second).toHaveURL(pathEquals('/'));
	} finally {
		await other.close();
	}

	// Off needs the password and a code.
	await gotoReady(page, '/settings/security', jsEnabled);
	const off = await nextStep(signInStep);
	await card.getByLabel('Current password').fill('not my password');
	await card.getByLabel('Code from your app').fill(codeAt(secret, off));
	await card.getByRole('button', { name: 'Turn off authenticator app' }).click();
	await expect(card.getByRole('alert')).toHaveText('That is not your current password.');
	await card.getByLabel('Current password').fill(admin.password);
	await card.getByLabel('Code from your app').fill(codeAt(secret, await nextStep(signInStep)));
	await card.getByRole('button', { name: 'Turn off authenticator app' }).click();
	// "Sign out all other sessions" is checked by default: the second browser is signed out.
	await expect(card.getByRole('status')).toHaveText(
		'The authenticator app is off. Signed out 1 other session.'
	);
	await expect(card.getByTestId('totp-status')).toHaveText('Off.');
});

test('an older session makes recovery codes only with proof: the current password, in a plain field', async ({
	page,
	sql,
	admin,
	jsEnabled
}) => {
	await signIn(page, jsEnabled, admin);
	// Older than the step-up window, with no proof given since.
	await sql`update "Session" set "createdAt" = now() - interval '6 minutes', "provedAt" = null`;
	await gotoReady(page, '/settings/security', jsEnabled);
	const card = page.getByRole('region', { name: 'Recovery codes' });
	const proof = card.getByTestId('step-up');
	await expect(proof).toBeVisible();
	await expect(proof).toContainText(
		'Confirm with your current password; or sign out and in again (not with a recovery code)'
	);
	await card.getByLabel('Current password').fill('not my password');
	await card.getByRole('button', { name: 'Create recovery codes' }).click();
	await expect(card.getByText('That is not your current password.')).toBeVisible();
	await expect(card.getByTestId('recovery-codes')).toHaveCount(0);
	await card.getByLabel('Current password').fill(admin.password);
	await card.getByRole('button', { name: 'Create recovery codes' }).click();
	await expect(card.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
	const [{ count }] = await sql`select count(*)::int from "RecoveryCode" where "usedAt" is null`;
	expect(count).toBe(10);
});

test('a recovery code signs in while SSO hides the password form and the provider is down', async ({
	page,
	browser,
	sql,
	admin,
	jsEnabled
}, testInfo) => {
	test.setTimeout(90_000);
	await signIn(page, jsEnabled, admin);
	const dead = `http://127.0.0.1:${await freePort()}`;
	await sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${dead}, "ssoSubject" = 'ada'
		where id = ${admin.id}
	`;
	await sql`
		update "AppSettings" set "ssoEnabled" = true, "ssoMode" = 'OIDC', "oidcIssuer" = ${dead},
			"oidcClientId" = 'librariarr-public'
	`;

	// SSO on and no codes: Settings → Authentication says so and leads to them.
	await gotoReady(page, '/settings/authentication', jsEnabled);
	await expect(page.getByTestId('recovery-none')).toBeVisible();
	await page.getByRole('link', { name: 'Create recovery codes' }).click();
	await expect(page).toHaveURL(pathEquals('/settings/security'));
	await ready(page, jsEnabled);
	const card = page.getByRole('region', { name: 'Recovery codes' });
	await expect(card.getByTestId('recovery-codes-left')).toHaveText(
		'You have no unused recovery codes.'
	);
	await card.getByRole('button', { name: 'Create recovery codes' }).click();
	const list = card.getByTestId('recovery-codes').locator('li');
	await expect(list).toHaveCount(10);
	const code = (await list.nth(3).textContent())!.trim();
	await expectFitsPhone(page, 'the recovery codes shown', card);

	const other = await browser.newContext(contextOptions(testInfo));
	try {
		const away = await other.newPage();
		await gotoReady(away, '/login', jsEnabled);
		await expect(away.getByLabel('Password', { exact: true })).toHaveCount(0);
		await away.getByRole('link', { name: 'Sign in with a recovery code' }).click();
		await expect(away).toHaveURL(pathEquals('/login/recovery'));
		await ready(away, jsEnabled);
		await expectNoSeriousA11yViolations(away, '/login/recovery', jsEnabled);
		await expectFitsPhone(away, '/login/recovery');
		await away.getByLabel('Username').fill(admin.username);
		await away.getByLabel('Recovery code').fill(code.toLowerCase().replace(/-/g, ' '));
		await away.getByRole('button', { name: 'Sign in' }).click();
		await expect(away).toHaveURL(pathEquals('/settings/authentication?recovered=1'));
		await expect(away.getByTestId('recovery-used')).toHaveText('You used a recovery code; 9 left.');
	} finally {
		await other.close();
	}

	// Used up: the same code does not work twice.
	const again = await browser.newContext(contextOptions(testInfo));
	try {
		const retry = await again.newPage();
		await gotoReady(retry, '/login/recovery', jsEnabled);
		await retry.getByLabel('Username').fill(admin.username);
		await retry.getByLabel('Recovery code').fill(code);
		await retry.getByRole('button', { name: 'Sign in' }).click();
		await expect(retry.getByRole('alert')).toContainText('already used');
	} finally {
		await again.close();
	}
});
