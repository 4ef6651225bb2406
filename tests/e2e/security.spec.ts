// Settings → Security in a real browser, with JavaScript on (enhanced forms) and off (plain
// form posts and GET filters).
import {
	contextOptions,
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	signIn,
	test
} from './fixtures';

test.describe('your sessions', () => {
	test('a session signed out from another browser really ends there', async ({
		page,
		admin,
		jsEnabled,
		browser
	}, testInfo) => {
		const other = await browser.newContext(contextOptions(testInfo));
		try {
			const otherPage = await other.newPage();
			await signIn(otherPage, jsEnabled, admin);
			await signIn(page, jsEnabled, admin);

			await gotoReady(page, '/settings/security', jsEnabled);
			await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings → Security');
			await expect(
				page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Security' })
			).toHaveAttribute('aria-current', 'page');
			const rows = page.getByTestId('sessions').locator('tbody tr');
			await expect(rows).toHaveCount(2);
			await expect(rows.nth(0)).toContainText('This browser');
			await expect(rows.nth(0)).toContainText('Chrome');
			await expect(rows.nth(0)).toContainText('Password');
			await expect(rows.nth(0)).toContainText('127.0.0.1');
			await expect(rows.nth(1)).not.toContainText('This browser');
			await expectNoSeriousA11yViolations(page, '/settings/security', jsEnabled);

			await rows
				.nth(1)
				.getByRole('button', { name: /^Sign out/ })
				.click();
			await expect(page.getByRole('status')).toHaveText('The session was signed out.');
			await expect(rows).toHaveCount(1);

			// the other browser is signed out on its next request
			await otherPage.goto('/settings/security');
			await expect(otherPage).toHaveURL(pathEquals('/login?returnTo=%2Fsettings%2Fsecurity'));
			// and this one is not
			await page.goto('/');
			await expect(page).toHaveURL(pathEquals('/'));
		} finally {
			await other.close();
		}
	});

	test('"Sign out all other sessions" ends every other browser and keeps this one', async ({
		page,
		admin,
		jsEnabled,
		browser
	}, testInfo) => {
		const others = [
			await browser.newContext(contextOptions(testInfo)),
			await browser.newContext(contextOptions(testInfo))
		];
		try {
			const otherPages = [];
			for (const context of others) {
				const p = await context.newPage();
				await signIn(p, jsEnabled, admin);
				otherPages.push(p);
			}
			await signIn(page, jsEnabled, admin);
			await gotoReady(page, '/settings/security', jsEnabled);
			await expect(page.getByTestId('sessions').locator('tbody tr')).toHaveCount(3);
			await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
			await expect(page.getByRole('status')).toHaveText('Signed out 2 other sessions.');
			await expect(page.getByTestId('sessions').locator('tbody tr')).toHaveCount(1);
			await expect(
				page.getByRole('button', { name: 'Sign out all other sessions' })
			).toBeDisabled();
			for (const p of otherPages) {
				await p.goto('/');
				await expect(p).toHaveURL(pathEquals('/login'));
			}
			await page.goto('/');
			await expect(page).toHaveURL(pathEquals('/'));
		} finally {
			for (const context of others) await context.close();
		}
	});
});
