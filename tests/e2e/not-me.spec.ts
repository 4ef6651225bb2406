// "Not me" in a real browser, JavaScript on and off: a sign-in from another browser sends its
// alert to a real local ntfy stand-in, the link in it opens a confirmation page (the GET changes
// nothing), confirming ends that browser's session and pauses the password, and the password is
// then refused with words. With the password as the only way in, it is not paused and the page
// says why; that session ends all the same.
import type { Page } from '@playwright/test';
import { startReceiver, type Receiver } from '../helpers/alert-receivers';
import { expect, expectNoSeriousA11yViolations, gotoReady, signIn, test } from './fixtures';

async function addNtfy(page: Page, jsEnabled: boolean, ntfy: Receiver) {
	await gotoReady(page, '/settings/notifications', jsEnabled);
	const add = page.getByRole('region', { name: 'Add a channel' });
	await add.getByLabel('Kind').selectOption('ntfy');
	await add.getByLabel('Name (optional)').fill('My phone');
	await add.getByLabel('URL').fill(ntfy.url);
	await add.getByLabel('Topic (ntfy only)').fill('librariarr');
	await add.getByRole('button', { name: 'Add channel' }).click();
	await expect(add.getByText('Channel “My phone” added.')).toBeVisible();
}

/** The "Not me" link in the newest message ntfy received. */
async function linkFrom(ntfy: Receiver, after: number) {
	await expect.poll(() => ntfy.received.length, { timeout: 15_000 }).toBeGreaterThan(after);
	const match = /Not you\? (\S+)/.exec(ntfy.received.at(-1)?.body ?? '');
	expect(match, 'the alert carries a "Not me" link').toBeTruthy();
	return new URL(match![1]).pathname;
}

test('Not me: the link ends that session and pauses the password, which then refuses sign-in', async ({
	page,
	otherPage,
	admin,
	jsEnabled,
	sql
}) => {
	const ntfy = await startReceiver('ntfy');
	try {
		// Plex is a second way in, so the password can be paused.
		await sql`update "User" set "plexId" = '1001', "plexUsername" = 'ada' where id = ${admin.id}`;
		await sql`update "AppSettings" set "plexLoginEnabled" = true`;
		await signIn(page, jsEnabled, admin);
		await addNtfy(page, jsEnabled, ntfy);

		// Someone else signs in from a browser the account does not know.
		const before = ntfy.received.length;
		await signIn(otherPage, jsEnabled, admin);
		const path = await linkFrom(ntfy, before);

		// Opening the link only asks.
		await gotoReady(page, path, jsEnabled);
		await expect(page.getByRole('heading', { name: 'Was this sign-in not you?' })).toBeVisible();
		await expect(page.getByText('Signing in with the password')).toBeVisible();
		await expectNoSeriousA11yViolations(page, 'the Not me page', jsEnabled);
		await gotoReady(otherPage, '/settings/security', jsEnabled);
		await expect(otherPage).toHaveURL((url) => url.pathname === '/settings/security');

		await page.getByRole('button', { name: 'It was not me: end that session' }).click();
		await expect(page.getByRole('status')).toContainText(
			'Signing in with the password is paused for this account until you sign in another way'
		);

		// That session is over, and the password no longer signs in.
		await otherPage.goto('/settings/security');
		await expect(otherPage).toHaveURL((url) => url.pathname === '/login');
		await signIn(otherPage, jsEnabled, admin, { expectPath: '/login?paused=local' });
		await expect(otherPage.getByText('is paused for this account after a "Not me"')).toBeVisible();

		// The link works once.
		const again = await page.goto(path);
		expect(again?.status()).toBe(404);
	} finally {
		await ntfy.stop();
	}
});

test('Not me never pauses the last way in: the session ends and the page says why', async ({
	page,
	otherPage,
	admin,
	jsEnabled
}) => {
	const ntfy = await startReceiver('ntfy');
	try {
		await signIn(page, jsEnabled, admin);
		await addNtfy(page, jsEnabled, ntfy);
		const before = ntfy.received.length;
		await signIn(otherPage, jsEnabled, admin);
		const path = await linkFrom(ntfy, before);

		await gotoReady(page, path, jsEnabled);
		await page.getByRole('button', { name: 'It was not me: end that session' }).click();
		await expect(page.getByRole('status')).toContainText(
			'it is the only way left to sign in to this account, and pausing it would lock you out'
		);
		await otherPage.goto('/settings/security');
		await expect(otherPage).toHaveURL((url) => url.pathname === '/login');
		// Not paused: the password still signs in.
		await signIn(otherPage, jsEnabled, admin);
	} finally {
		await ntfy.stop();
	}
});
