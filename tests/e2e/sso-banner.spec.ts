// The login banner after an SSO sign-in that came back without its start (too slow, another tab,
// or tampering): its fixed words, calmer words around them, and a "Try again" that works.
import { USERS } from '../helpers/idp.js';
import { expect, gotoReady, pathEquals, signIn, test } from './fixtures';
import { IDP, signInAtIdp } from './steps';

const ISSUER = IDP.issuer;
const IDP_ORIGIN = IDP.origin;
const SUB = USERS.username.sub;
const FIXED = 'SSO request expired or was tampered with';

test.describe('The "expired or tampered with" banner', () => {
	test('keeps its words, says what it usually means, and "Try again" signs in', async ({
		page,
		context,
		admin,
		sql,
		jsEnabled
	}) => {
		await sql`
			update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER},
				"oidcClientId" = 'librariarr-public', "oidcClientAuthMethod" = 'none', "ssoEnabled" = true,
				"ssoConfigVersion" = "ssoConfigVersion" + 1
			where id = 1
		`;
		await sql`
			update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${ISSUER}, "ssoSubject" = ${SUB}
			where id = ${admin.id}
		`;
		await gotoReady(page, '/login', jsEnabled);
		await page.getByRole('link', { name: 'Sign in with SSO' }).click();
		await page.waitForURL((url) => url.origin === IDP_ORIGIN);
		// The browser loses the sign-in it started, as when it was started in another tab.
		await context.clearCookies({ name: 'librariarr_oidc_tx' });
		await signInAtIdp(page, SUB);

		// No sign-in in progress in this browser: the fixed words, and words that say so.
		await expect(page).toHaveURL(pathEquals('/login?sso_error=state_mismatch&flow=none'));
		const banner = page.getByRole('alert');
		await expect(banner).toContainText(FIXED);
		await expect(banner).toContainText(
			'This browser has no sign-in in progress: the page came from an old tab, a bookmark of the return address or a link'
		);
		await banner.getByRole('link', { name: 'Try again' }).click();
		await page.waitForURL((url) => url.origin === IDP_ORIGIN || url.pathname === '/');
		if (new URL(page.url()).origin === IDP_ORIGIN) await signInAtIdp(page, SUB);
		await expect(page).toHaveURL(pathEquals('/'));
		await expect(page.getByTestId('signed-in-method')).toHaveText('single sign-on (OIDC)');
		// The name shown is the provider's `name` claim, not the username.
		await expect(page.getByTestId('signed-in-as')).toHaveText(USERS.username.name);
	});

	test('without SSO on the login page there is nothing to try again', async ({
		page,
		admin: _admin,
		jsEnabled
	}) => {
		await gotoReady(page, '/login?sso_error=state_mismatch', jsEnabled);
		await expect(page.getByRole('alert')).toContainText(FIXED);
		await expect(page.getByRole('link', { name: 'Try again' })).toHaveCount(0);
	});

	test('the settings page says the same calmly when Verify & Link comes back without its start', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/authentication?sso_link_error=state_mismatch', jsEnabled);
		await expect(page.getByText('it usually means it took longer than ten minutes')).toBeVisible();
	});
});
