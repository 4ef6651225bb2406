// Signing in and out with a local username and password.
import {
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	signIn,
	test
} from './fixtures';

const INVALID = 'Invalid username or password';

test.describe('signing in', () => {
	test('a signed-out visitor is sent to the sign-in page', async ({ page, admin, jsEnabled }) => {
		await gotoReady(page, '/', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/login'));
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in to Librariarr');
		expect(admin.id).toBeGreaterThan(0);
	});

	test('the sign-in page passes the accessibility check', async ({ page, admin, jsEnabled }) => {
		await gotoReady(page, '/login', jsEnabled);
		await expect(page.getByLabel('Username', { exact: true })).toBeVisible();
		await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
		expect(admin.username).toBeTruthy();
		await expectNoSeriousA11yViolations(page, '/login', jsEnabled);
	});

	test('a wrong password is refused with "Invalid username or password"', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await gotoReady(page, '/login', jsEnabled);
		await page.getByLabel('Username', { exact: true }).fill(admin.username);
		await page.getByLabel('Password', { exact: true }).fill('not the password');
		if (jsEnabled) await page.evaluate(() => ((window as { __marker?: number }).__marker = 1));
		await page.getByRole('button', { name: 'Sign in' }).click();

		await expect(page.getByRole('alert')).toHaveText(INVALID);
		await expect(page).toHaveURL(pathEquals('/login'));
		// The username stays filled in; the password does not come back from the server.
		await expect(page.getByLabel('Username', { exact: true })).toHaveValue(admin.username);
		if (jsEnabled) {
			// The enhanced form answered in place: no full page load happened.
			expect(await page.evaluate(() => (window as { __marker?: number }).__marker)).toBe(1);
		}
		const [{ count }] = await sql`select count(*)::int as count from "Session"`;
		expect(count).toBe(0);
		await expectNoSeriousA11yViolations(page, '/login with the error banner', jsEnabled);
	});

	test('an unknown username gets exactly the same answer', async ({ page, admin, jsEnabled }) => {
		await gotoReady(page, '/login', jsEnabled);
		await page.getByLabel('Username', { exact: true }).fill('nobody-' + admin.username);
		await page.getByLabel('Password', { exact: true }).fill(admin.password);
		await page.getByRole('button', { name: 'Sign in' }).click();

		await expect(page.getByRole('alert')).toHaveText(INVALID);
		await expect(page).toHaveURL(pathEquals('/login'));
	});

	test('the right username and password lead to the home page', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		// The username is not case-sensitive.
		await signIn(page, jsEnabled, { ...admin, username: admin.username.toUpperCase() });
		await expect(page.getByTestId('signed-in-as')).toHaveText(admin.displayName);
		await expect(page.getByTestId('signed-in-method')).toHaveText('local username and password');
		await expect(page.getByTestId('signed-in-since')).not.toBeEmpty();

		const sessions = await sql`select "userId", method from "Session"`;
		expect(sessions).toEqual([{ userId: admin.id, method: 'local' }]);
	});

	test('after signing in, you are taken back to the page you asked for', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await gotoReady(page, '/settings/authentication', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/login?returnTo=%2Fsettings%2Fauthentication'));

		await signIn(page, jsEnabled, admin, {
			path: '/login?returnTo=/settings/authentication',
			expectPath: '/settings/authentication'
		});
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings → Authentication');
	});

	test('a returnTo pointing at another site is ignored: you land on the home page', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin, {
			path: '/login?returnTo=https://evil.example',
			expectPath: '/'
		});
		expect(new URL(page.url()).host).toBe(new URL(test.info().project.use.baseURL!).host);
		await expect(page.getByTestId('signed-in-as')).toHaveText(admin.displayName);

		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect(page).toHaveURL(pathEquals('/login?signed_out=1'));
		await signIn(page, jsEnabled, admin, {
			path: '/login?returnTo=//evil.example/settings',
			expectPath: '/'
		});
	});

	test('ten failed attempts in a row make the form wait before trying again', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await gotoReady(page, '/login', jsEnabled);
		for (let i = 1; i <= 10; i++) {
			await page.getByLabel('Username', { exact: true }).fill(admin.username);
			await page.getByLabel('Password', { exact: true }).fill(`wrong guess ${i}`);
			await page.getByRole('button', { name: 'Sign in' }).click();
			// Each attempt is counted under this address and username. (With JS the banner is
			// already showing from the previous try, so wait for the count, not the banner.)
			await expect
				.poll(
					async () =>
						(
							await sql`
								select coalesce(sum(attempts), 0)::int as n from "Throttle"
								where key like 'password:pair:%'
							`
						)[0].n
				)
				.toBe(i);
			await expect(page.getByRole('alert')).toHaveText(INVALID);
			// with JS, the answer also resets the form: wait for it before typing the next try
			await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeEnabled();
		}
		// Now even the right password is turned away.
		await page.getByLabel('Username', { exact: true }).fill(admin.username);
		await page.getByLabel('Password', { exact: true }).fill(admin.password);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await expect(page.getByRole('alert')).toContainText('Too many failed sign-in attempts');
		await expect(page).toHaveURL(pathEquals('/login'));
	});
});

test.describe('signing out', () => {
	test('the header\'s "Sign out" button ends the session and returns to the sign-in page', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await signIn(page, jsEnabled, admin);
		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect(page).toHaveURL(pathEquals('/login?signed_out=1'));
		await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();

		const [{ count }] = await sql`select count(*)::int as count from "Session"`;
		expect(count).toBe(0);

		await page.goto('/');
		await expect(page).toHaveURL(pathEquals('/login'));
		await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
	});
});

test.describe('keyboard', () => {
	test('Tab reaches "Skip to content" first, then the sign-in form in order', async ({
		page,
		admin,
		jsEnabled
	}) => {
		expect(admin.id).toBeGreaterThan(0);
		await gotoReady(page, '/login', jsEnabled);

		await page.keyboard.press('Tab');
		const skip = page.getByRole('link', { name: 'Skip to content' });
		await expect(skip).toBeFocused();
		// Visually hidden until focused, then shown.
		expect((await skip.boundingBox())?.width ?? 0).toBeGreaterThan(20);

		await page.keyboard.press('Tab');
		await expect(page.getByRole('link', { name: 'Librariarr' })).toBeFocused();
		await page.keyboard.press('Tab');
		await expect(page.getByLabel('Username', { exact: true })).toBeFocused();
		await page.keyboard.press('Tab');
		await expect(page.getByLabel('Password', { exact: true })).toBeFocused();
		await page.keyboard.press('Tab');
		await expect(page.getByRole('checkbox', { name: 'Keep me signed in' })).toBeFocused();
		await page.keyboard.press('Tab');
		await expect(page.getByRole('button', { name: 'Sign in' })).toBeFocused();

		// Following the skip link moves on past the header, straight to the form.
		for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+Tab');
		await expect(skip).toBeFocused();
		await page.keyboard.press('Enter');
		await page.keyboard.press('Tab');
		await expect(page.getByLabel('Username', { exact: true })).toBeFocused();
	});
});
