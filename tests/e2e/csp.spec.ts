// The Content-Security-Policy blocks nothing the app itself needs: the main pages load, hydrate
// (with JavaScript on) and navigate without a single CSP violation in the console.
import type { Page } from '@playwright/test';
import { expect, gotoReady, signIn, test } from './fixtures';

function watchViolations(page: Page) {
	const violations: string[] = [];
	page.on('console', (msg) => {
		if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
	});
	page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
	return violations;
}

test.describe('Content-Security-Policy', () => {
	test('first-run pages load without CSP violations', async ({ page, jsEnabled }) => {
		const violations = watchViolations(page);
		await gotoReady(page, '/setup', jsEnabled);
		await expect(page.getByRole('button', { name: 'Create account' })).toBeVisible();
		await gotoReady(page, '/setup/restore', jsEnabled);
		await expect(page.getByRole('button', { name: 'Restore from Backup' })).toBeVisible();
		expect(violations).toEqual([]);
	});

	test('login and the signed-in pages load and navigate without CSP violations', async ({
		page,
		admin,
		jsEnabled
	}) => {
		const violations = watchViolations(page);
		await signIn(page, jsEnabled, admin);
		for (const path of [
			'/',
			'/settings/authentication',
			'/settings/backups',
			'/settings/security',
			'/logout'
		]) {
			await gotoReady(page, path, jsEnabled);
			await expect(page.locator('main')).toBeVisible();
		}
		// A client-side navigation (JavaScript on) brings in Kit's route announcer.
		await gotoReady(page, '/', jsEnabled);
		await page.locator('a[href="/settings/authentication"]').first().click();
		await expect(page).toHaveURL(/\/settings\/authentication$/);
		await expect(page.getByRole('heading', { name: 'Local Authentication' })).toBeVisible();
		expect(violations).toEqual([]);
	});
});
