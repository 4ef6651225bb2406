// Settings → Authentication: the local sign-in switch and changing your credentials.
import {
	contextOptions,
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	signIn,
	test
} from './fixtures';

const NEW_PASSWORD = 'a brand new passphrase';

test.describe('Settings → Authentication', () => {
	test('the settings page passes the accessibility check', async ({ page, admin, jsEnabled }) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/authentication', jsEnabled);
		await expect(page.getByRole('heading', { name: 'Local Authentication' })).toBeVisible();
		await expect(page.getByRole('switch', { name: 'Enable Local Login' })).toBeVisible();
		await expectNoSeriousA11yViolations(page, '/settings/authentication', jsEnabled);
	});

	test('local sign-in cannot be turned off while it is the only way in', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/authentication', jsEnabled);
		const toggle = page.getByRole('switch', { name: 'Enable Local Login' });
		await expect(toggle).toHaveAttribute('aria-checked', 'true');

		await toggle.click();
		await expect(page.getByRole('alert')).toContainText('Local sign-in is your only way in');
		await expect(toggle).toHaveAttribute('aria-checked', 'true');

		const [settings] = await sql`select "localAuthEnabled" from "AppSettings" where id = 1`;
		expect(settings.localAuthEnabled).toBe(true);
		await expectNoSeriousA11yViolations(
			page,
			'/settings/authentication with the refusal',
			jsEnabled
		);
	});

	test('changing the password signs out your other sessions, and the new password works', async ({
		page,
		otherPage,
		admin,
		jsEnabled,
		sql
	}) => {
		// A second browser, signed in as the same user.
		const other = otherPage;
		await signIn(other, jsEnabled, admin);

		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/authentication', jsEnabled);
		await expect(page.getByLabel('Username', { exact: true })).toHaveValue(admin.username);
		await page.getByLabel('Current password', { exact: true }).fill(admin.password);
		await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
		await page.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD);
		await page.getByRole('button', { name: 'Save credentials' }).click();

		await expect(page.getByRole('status')).toHaveText(
			'Credentials saved. Every other session of yours has been signed out.'
		);
		const sessions = await sql`select id from "Session" where "userId" = ${admin.id}`;
		expect(sessions).toHaveLength(1);

		// The other browser is signed out at its next request...
		await other.goto('/');
		await expect(other).toHaveURL(pathEquals('/login'));
		await expect(other.getByRole('button', { name: 'Sign in' })).toBeVisible();

		// ...while this one, which made the change, stays signed in.
		await gotoReady(page, '/', jsEnabled);
		await expect(page.getByTestId('signed-in-as')).toHaveText(admin.displayName);

		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect(page).toHaveURL(pathEquals('/login?signed_out=1'));

		// The old password no longer works; the new one does.
		await gotoReady(page, '/login', jsEnabled);
		await page.getByLabel('Username', { exact: true }).fill(admin.username);
		await page.getByLabel('Password', { exact: true }).fill(admin.password);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect(page.getByRole('alert')).toHaveText('Invalid username or password');

		await signIn(page, jsEnabled, { username: admin.username, password: NEW_PASSWORD });
		await expect(page.getByTestId('signed-in-as')).toHaveText(admin.displayName);
	});

	test('a wrong current password is shown on that field and changes nothing', async ({
		page,
		browser,
		admin,
		jsEnabled,
		sql
	}, testInfo) => {
		const otherContext = await browser.newContext(contextOptions(testInfo));
		try {
			const other = await otherContext.newPage();
			await signIn(other, jsEnabled, admin);

			await signIn(page, jsEnabled, admin);
			const [before] = await sql`
				select "localUsername", "passwordHash", "sessionVersion" from "User" where id = ${admin.id}
			`;

			await gotoReady(page, '/settings/authentication', jsEnabled);
			await page.getByLabel('Username', { exact: true }).fill('someone-else');
			await page.getByLabel('Current password', { exact: true }).fill('not my password');
			await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
			await page.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD);
			if (jsEnabled) await page.evaluate(() => ((window as { __marker?: number }).__marker = 1));
			await page.getByRole('button', { name: 'Save credentials' }).click();

			const current = page.getByLabel('Current password', { exact: true });
			await expect(page.getByText('That is not your current password.')).toBeVisible();
			await expect(current).toHaveAttribute('aria-invalid', 'true');
			await expect(current).toHaveAccessibleDescription('That is not your current password.');
			await expect(page.getByLabel('New password', { exact: true })).not.toHaveAttribute(
				'aria-invalid',
				'true'
			);
			await expect(page.getByText('Credentials saved.')).toHaveCount(0);
			if (jsEnabled) {
				expect(await page.evaluate(() => (window as { __marker?: number }).__marker)).toBe(1);
			}

			const [after] = await sql`
				select "localUsername", "passwordHash", "sessionVersion" from "User" where id = ${admin.id}
			`;
			expect(after).toEqual(before);
			const sessions = await sql`select id from "Session" where "userId" = ${admin.id}`;
			expect(sessions).toHaveLength(2);
			await expectNoSeriousA11yViolations(
				page,
				'/settings/authentication with a field error',
				jsEnabled
			);

			// The other browser is still signed in.
			await other.goto('/');
			await expect(other).toHaveURL(pathEquals('/'));
			await expect(other.getByTestId('signed-in-as')).toHaveText(admin.displayName);
		} finally {
			await otherContext.close();
		}
	});
});
