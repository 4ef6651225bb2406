// The login page as Settings → Authentication shows it: the effective state of the local and Plex
// switches, the login page preview, and the words on the SSO button.
import type postgres from 'postgres';
import {
	contextOptions,
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	signIn,
	test,
	type Admin
} from './fixtures';

const ISSUER = 'http://127.0.0.1:9/issuer';

/** An OIDC configuration saved; with `enabled`, the admin linked and SSO switched on. */
async function saveSso(sql: postgres.Sql, admin: Admin, enabled: boolean) {
	await sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER},
			"oidcClientId" = 'librariarr', "ssoEnabled" = ${enabled},
			"ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
	if (enabled) {
		await sql`
			update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${ISSUER}, "ssoSubject" = 'ada'
			where id = ${admin.id}
		`;
	}
}

test.describe('Settings → Authentication: what the login page shows', () => {
	test('with SSO on, the local switch says the password form is hidden, and the preview and the login page agree', async ({
		page,
		browser,
		admin,
		sql,
		jsEnabled
	}, testInfo) => {
		test.slow(); // the accessibility check of the whole settings page
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/authentication', jsEnabled);
		await expect(page.getByTestId('local-toggle-state')).toHaveText('On — shown on the login page');
		await expect(page.getByTestId('login-preview')).toContainText(
			'A signed-out visitor sees the username and password form.'
		);

		await saveSso(sql, admin, true);
		await gotoReady(page, '/settings/authentication', jsEnabled);
		await expect(page.getByRole('switch', { name: 'Enable Local Login' })).toHaveAttribute(
			'aria-checked',
			'true'
		);
		await expect(page.getByTestId('local-toggle-state')).toHaveText(
			'On — hidden on the login page while SSO is on'
		);
		const preview = page.getByTestId('login-preview');
		await expect(preview).toContainText('A signed-out visitor sees the “Sign in with SSO” button.');
		await expect(preview).not.toContainText('password form');
		await expectNoSeriousA11yViolations(page, 'the settings page with SSO on', jsEnabled);

		// What a signed-out visitor really gets.
		const visitor = await browser.newContext(contextOptions(testInfo));
		try {
			const login = await visitor.newPage();
			await gotoReady(login, '/login', jsEnabled);
			await expect(login.getByRole('link', { name: 'Sign in with SSO' })).toBeVisible();
			await expect(login.getByLabel('Password', { exact: true })).toHaveCount(0);
		} finally {
			await visitor.close();
		}
	});

	test('the SSO button text is set in settings and used by the login page and the preview', async ({
		page,
		browser,
		admin,
		sql,
		jsEnabled
	}, testInfo) => {
		// A configuration saved and nobody linked: the login page offers SSO beside the form, to the
		// admin setting it up (or whoever asks for it) only.
		await saveSso(sql, admin, false);
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/authentication', jsEnabled);
		const field = page.getByLabel('SSO button text');
		await expect(field).toHaveValue('Sign in with SSO');
		await field.fill('  Sign in with Authentik ');
		await page.getByRole('button', { name: 'Save button text' }).click();
		await expect(page.getByText('Button text saved.')).toBeVisible();
		await expect(field).toHaveValue('Sign in with Authentik');
		// Nobody linked yet: strangers see the form only; the admin's browser sees the button too.
		await expect(page.getByTestId('login-preview')).toContainText(
			'A signed-out visitor sees the username and password form.'
		);
		await expect(page.getByTestId('login-preview')).toContainText(
			'also sees the “Sign in with Authentik” button'
		);
		const [row] = await sql`select "ssoButtonText" from "AppSettings" where id = 1`;
		expect(row.ssoButtonText).toBe('Sign in with Authentik');

		const visitor = await browser.newContext(contextOptions(testInfo));
		try {
			const login = await visitor.newPage();
			await gotoReady(login, '/login', jsEnabled);
			await expect(login.getByLabel('Password', { exact: true })).toBeVisible();
			await expect(login.getByRole('link', { name: 'Sign in with Authentik' })).toHaveCount(0);
			await gotoReady(login, '/login?sso_setup=1', jsEnabled);
			await expect(login.getByRole('link', { name: 'Sign in with Authentik' })).toBeVisible();
		} finally {
			await visitor.close();
		}
	});

	test('a button text that is too long or holds control characters is refused and nothing changes', async ({
		page,
		admin,
		sql,
		jsEnabled
	}, testInfo) => {
		await signIn(page, jsEnabled, admin);
		const origin = new URL(testInfo.project.use.baseURL ?? process.env.E2E_BASE_URL!).origin;
		for (const [text, words] of [
			['x'.repeat(41), 'Keep the button text to 40 characters or fewer.'],
			['Sign in\u001b[31m now', 'Remove the control characters'],
			['   ', 'Enter the words for the button.']
		]) {
			const res = await page.request.post('/settings/authentication?/ssoButtonText', {
				form: { ssoButtonText: text },
				headers: { origin, accept: 'text/html' }
			});
			expect(res.status()).toBe(400);
			expect(await res.text()).toContain(words);
		}
		const [row] = await sql`select "ssoButtonText" from "AppSettings" where id = 1`;
		expect(row.ssoButtonText).toBe('Sign in with SSO');

		// The browser's own form, without the length limit the field carries.
		await gotoReady(page, '/settings/authentication', jsEnabled);
		const field = page.getByLabel('SSO button text');
		await field.evaluate((el) => el.removeAttribute('maxlength'));
		await field.fill('y'.repeat(41));
		await page.getByRole('button', { name: 'Save button text' }).click();
		await expect(page.getByText('Keep the button text to 40 characters or fewer.')).toBeVisible();
		await expect(field).toHaveAttribute('aria-invalid', 'true');
	});
});

test.describe('The login page', () => {
	test('is a centred card with the logo and the name, and shows "You have been signed out." in it after signing out', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await page.setViewportSize({ width: 1280, height: 800 });
		await signIn(page, jsEnabled, admin);
		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect(page).toHaveURL(pathEquals('/login?signed_out=1'));

		const card = page.getByTestId('login-card');
		await expect(card.getByRole('heading', { level: 1 })).toHaveText('Sign in to Librariarr');
		await expect(card.locator('svg').first()).toBeVisible();
		await expect(card.getByRole('status')).toHaveText('You have been signed out.');
		await expect(card.getByLabel('Username', { exact: true })).toBeVisible();

		const box = (await card.boundingBox())!;
		expect(Math.abs(box.x + box.width / 2 - 640)).toBeLessThan(12);
		expect(box.width).toBeLessThan(420);
	});
});
