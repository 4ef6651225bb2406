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
		otherPage
	}) => {
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

test.describe('sign-in history', () => {
	test('lists the audit trail newest first, filters with a GET form, pages by links, and downloads as CSV', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		// 26 failed Plex sign-ins (one more than a page) before the admin's own sign-in; they name
		// no account, so the home page does not count them against the admin
		await sql`
			insert into "AuditEvent" ("occurredAt", event, method, ip, detail)
			select now() - make_interval(mins => 60 - n), 'login.failed', 'plex', '192.0.2.' || n,
				'{"reason": "plex_denied"}'::jsonb
			from generate_series(1, 26) n
		`;
		await signIn(page, jsEnabled, admin);
		await expect(page.getByTestId('last-sign-in')).toContainText(
			'This is the first sign-in on record. No failed sign-in attempts since.'
		);
		await gotoReady(page, '/settings/security', jsEnabled);
		const rows = page.getByTestId('history').locator('tbody tr');
		await expect(rows).toHaveCount(25);
		await expect(rows.first()).toContainText('Signed in');
		await expect(rows.first()).toContainText('Password');

		await page.getByLabel('Event').selectOption('login.failed');
		await page.getByLabel('Method').selectOption('plex');
		await page.getByRole('button', { name: 'Filter' }).click();
		await expect(page).toHaveURL(pathEquals('/settings/security?event=login.failed&method=plex'));
		await expect(page.getByTestId('history-count')).toHaveText('26 events match the filter.');
		await expect(rows).toHaveCount(25);
		await expect(rows.first()).toContainText('192.0.2.26');
		await expect(rows.first()).toContainText('the PIN was not approved at plex.tv');
		await expectNoSeriousA11yViolations(page, 'the sign-in history', jsEnabled);

		const pages = page.getByRole('navigation', { name: 'Sign-in history pages' });
		await expect(pages).toContainText('Page 1 of 2');
		await pages.getByRole('link', { name: 'Older' }).click();
		await expect(page).toHaveURL(
			pathEquals('/settings/security?event=login.failed&method=plex&page=2')
		);
		await expect(rows).toHaveCount(1);
		await expect(rows.first()).toContainText('192.0.2.1');

		const [download] = await Promise.all([
			page.waitForEvent('download'),
			page.getByRole('link', { name: 'Download as CSV' }).click()
		]);
		expect(download.suggestedFilename()).toMatch(/^librariarr-sign-in-history-.*\.csv$/);
		const csv = await (await download.createReadStream()).toArray();
		const lines = Buffer.concat(csv).toString('utf8').trim().split('\r\n');
		expect(lines).toHaveLength(27);
		expect(lines[1]).toContain('login.failed,1,,plex,192.0.2.26');
	});
});

test.describe('throttles', () => {
	test('a limited sign-in is listed with when it lifts, and "Clear" lets the next sign-in through', async ({
		page,
		admin,
		jsEnabled,
		browser
	}, testInfo) => {
		await signIn(page, jsEnabled, admin);
		const other = await browser.newContext(contextOptions(testInfo));
		try {
			const otherPage = await other.newPage();
			// ten wrong passwords from another browser (posted like its form would)
			const origin = new URL(testInfo.project.use.baseURL ?? process.env.E2E_BASE_URL!).origin;
			for (let i = 0; i < 10; i++) {
				const res = await otherPage.request.post('/login', {
					form: { username: admin.username, password: 'not the password' },
					headers: { origin, accept: 'text/html' }
				});
				expect(res.status()).toBe(400);
			}
			await gotoReady(otherPage, '/login', jsEnabled);
			await otherPage.getByLabel('Username', { exact: true }).fill(admin.username);
			await otherPage.getByLabel('Password', { exact: true }).fill(admin.password);
			await otherPage.getByRole('button', { name: 'Sign in' }).click();
			await expect(otherPage.getByRole('alert')).toContainText('Too many');

			await gotoReady(page, '/settings/security', jsEnabled);
			const rows = page.getByTestId('throttles').locator('tbody tr');
			await expect(rows).toHaveCount(2);
			await expect(page.getByTestId('throttles')).toContainText('127.0.0.1 and admin');
			await expect(page.getByTestId('throttles')).toContainText('10 of 10');
			await expectNoSeriousA11yViolations(page, 'the throttles list', jsEnabled);
			for (let left = 2; left > 0; left--) {
				await rows
					.first()
					.getByRole('button', { name: /^Clear/ })
					.click();
				await expect(page.getByRole('status')).toContainText('Cleared the limit on');
				await expect(rows).toHaveCount(left - 1);
			}
			await expect(page.getByTestId('no-throttles')).toBeVisible();

			await signIn(otherPage, jsEnabled, admin);
		} finally {
			await other.close();
		}
	});
});
