// First run: the guide's "Create the administrator account" step.
import {
	contextOptions,
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	ready,
	test
} from './fixtures';

const ADA = {
	displayName: 'Ada Lovelace',
	username: 'Ada.Admin',
	password: 'analytical engine 1843'
};

test.describe('first-run setup', () => {
	test('on a new install, the first visit to any page lands on the setup page', async ({
		page,
		jsEnabled
	}) => {
		await gotoReady(page, '/', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/setup'));
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Welcome to Librariarr');
		await expect(page.getByRole('button', { name: 'Create account' })).toBeVisible();

		await gotoReady(page, '/login', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/setup'));
		await gotoReady(page, '/settings/authentication', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/setup'));
	});

	test('the setup page passes the accessibility check', async ({ page, jsEnabled }) => {
		await gotoReady(page, '/setup', jsEnabled);
		await expect(page.getByRole('button', { name: 'Create account' })).toBeVisible();
		await expectNoSeriousA11yViolations(page, '/setup', jsEnabled);
	});

	test('a confirmation that does not match is refused, keeping the display name and username', async ({
		page,
		jsEnabled,
		sql
	}) => {
		await gotoReady(page, '/setup', jsEnabled);
		await page.getByLabel('Display name').fill(ADA.displayName);
		await page.getByLabel('Username').fill(ADA.username);
		await page.getByLabel('Password', { exact: true }).fill(ADA.password);
		await page.getByLabel('Confirm password').fill('analytical engine 1842');
		if (jsEnabled) await page.evaluate(() => ((window as { __marker?: number }).__marker = 1));
		await page.getByRole('button', { name: 'Create account' }).click();

		const confirm = page.getByLabel('Confirm password');
		await expect(page.getByText('The passwords do not match.')).toBeVisible();
		await expect(confirm).toHaveAttribute('aria-invalid', 'true');
		await expect(confirm).toHaveAccessibleDescription('The passwords do not match.');
		await expect(page).toHaveURL(pathEquals('/setup'));
		await expect(page.getByLabel('Display name')).toHaveValue(ADA.displayName);
		await expect(page.getByLabel('Username')).toHaveValue(ADA.username);
		if (jsEnabled) {
			// The enhanced form answered in place: the page was not reloaded.
			expect(await page.evaluate(() => (window as { __marker?: number }).__marker)).toBe(1);
		}

		const [{ count }] = await sql`select count(*)::int as count from "User"`;
		expect(count).toBe(0);
		await expectNoSeriousA11yViolations(page, '/setup with a field error', jsEnabled);
	});

	test('a valid setup signs the new administrator in on the home page', async ({
		page,
		jsEnabled,
		sql
	}) => {
		await gotoReady(page, '/setup', jsEnabled);
		await page.getByLabel('Display name').fill(ADA.displayName);
		await page.getByLabel('Username').fill(ADA.username);
		await page.getByLabel('Password', { exact: true }).fill(ADA.password);
		await page.getByLabel('Confirm password').fill(ADA.password);
		await page.getByRole('button', { name: 'Create account' }).click();

		await expect(page).toHaveURL(pathEquals('/'));
		await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Hello, ${ADA.displayName}`);
		await expect(page.getByTestId('signed-in-as')).toHaveText(ADA.displayName);
		await expect(page.getByTestId('signed-in-method')).toHaveText('local username and password');
		const since = await page
			.getByTestId('signed-in-since')
			.locator('time')
			.getAttribute('datetime');
		expect(Math.abs(Date.parse(since ?? '') - Date.now())).toBeLessThan(5 * 60_000);
		await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();

		// The username is stored in lower case; the display name as typed.
		const users = await sql`select username, "localUsername", "passwordHash" from "User"`;
		expect(users).toHaveLength(1);
		expect(users[0].username).toBe(ADA.displayName);
		expect(users[0].localUsername).toBe(ADA.username.toLowerCase());
		expect(users[0].passwordHash).toMatch(/^\$argon2id\$/);

		await ready(page, jsEnabled);
		await expectNoSeriousA11yViolations(page, 'the home page', jsEnabled);
	});

	test('once an account exists, the setup page is gone', async ({
		page,
		browser,
		jsEnabled
	}, testInfo) => {
		await gotoReady(page, '/setup', jsEnabled);
		await page.getByLabel('Display name').fill(ADA.displayName);
		await page.getByLabel('Username').fill(ADA.username);
		await page.getByLabel('Password', { exact: true }).fill(ADA.password);
		await page.getByLabel('Confirm password').fill(ADA.password);
		await page.getByRole('button', { name: 'Create account' }).click();
		await expect(page).toHaveURL(pathEquals('/'));

		// Signed in: back home.
		await gotoReady(page, '/setup', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/'));
		await expect(page.getByTestId('signed-in-as')).toHaveText(ADA.displayName);

		// Anyone else: to the sign-in page, with no way to create a second administrator.
		const stranger = await browser.newContext(contextOptions(testInfo));
		try {
			const other = await stranger.newPage();
			await other.goto('/setup');
			await expect(other).toHaveURL(pathEquals('/login'));
			await expect(other.getByRole('button', { name: 'Sign in' })).toBeVisible();
			await expect(other.getByRole('button', { name: 'Create account' })).toHaveCount(0);
		} finally {
			await stranger.close();
		}
	});
});
