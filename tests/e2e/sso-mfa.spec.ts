// "Require two-factor for SSO sign-ins" in the browser, JavaScript on and off. The test provider
// sends no amr, so nothing it signs proves a second factor: a linked admin with the authenticator
// app on is asked for its code at /login/code and then signed in; one without any second factor
// lands on the login page with the mfa_required banner. The settings form saves the setting.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import { USERS } from '../helpers/idp.js';
import {
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	signIn,
	test
} from './fixtures';
import { IDP, signInAtIdp } from './steps';

const ISSUER = IDP.issuer;
const SUB = USERS.username.sub;

const codeAt = (secret: string, step: bigint) =>
	generateHOTP(decodeBase32IgnorePadding(secret.replace(/\s/g, '')), step, 6);
const stepNow = () => BigInt(Math.floor(Date.now() / 30_000));

test.describe('Require two-factor for SSO sign-ins', () => {
	test('saved in settings; without proof from the provider the authenticator code is asked', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		test.setTimeout(90_000);
		await sql`
			update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER},
				"oidcClientId" = 'librariarr-public', "oidcClientAuthMethod" = 'none',
				"ssoEnabled" = false, "ssoConfigVersion" = "ssoConfigVersion" + 1
			where id = 1
		`;
		await sql`
			update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${ISSUER}, "ssoSubject" = ${SUB}
			where id = ${admin.id}
		`;
		await signIn(page, jsEnabled, admin);

		// The authenticator app, set up as a person would.
		await gotoReady(page, '/settings/security', jsEnabled);
		const card = page.getByRole('region', { name: 'Authenticator app' });
		await card.getByRole('button', { name: 'Set up authenticator app' }).click();
		const secret = (await card.getByTestId('totp-secret').textContent())!.trim();
		const on = stepNow();
		await card.getByLabel('Code from your app').fill(codeAt(secret, on));
		await card.getByRole('button', { name: 'Turn on' }).click();
		await expect(card.getByRole('status')).toContainText('The authenticator app is on');

		// The setting: a bad age is refused beside its field, then it is saved.
		await gotoReady(page, '/settings/authentication', jsEnabled);
		const section = page.getByTestId('sso-mfa');
		await section.getByLabel('Require two-factor for SSO sign-ins').check();
		const age = section.getByLabel("Maximum age of the provider's sign-in (minutes)");
		await age.fill('2');
		await section.getByRole('button', { name: 'Save Two-Factor Setting' }).click();
		await expect(
			page.getByTestId('sso-mfa').getByLabel("Maximum age of the provider's sign-in (minutes)")
		).toHaveAccessibleDescription(/whole number of minutes/);
		await page
			.getByTestId('sso-mfa')
			.getByLabel("Maximum age of the provider's sign-in (minutes)")
			.fill('720');
		await page
			.getByTestId('sso-mfa')
			.getByRole('button', { name: 'Save Two-Factor Setting' })
			.click();
		await expect(page.getByTestId('sso-mfa')).toContainText(
			'Two-factor is now required for SSO sign-ins'
		);
		await expectNoSeriousA11yViolations(page, 'the two-factor setting', jsEnabled);
		const [saved] = await sql`select "ssoMfaRequired" as on from "AppSettings"`;
		expect(saved.on).toBe(true);

		// An SSO sign-in in a fresh session: the provider proves nothing, so the code is asked.
		await sql`update "AppSettings" set "ssoEnabled" = true`;
		await page.context().clearCookies();
		await gotoReady(page, '/login', jsEnabled);
		await page.getByRole('link', { name: 'Sign in with SSO' }).click();
		await signInAtIdp(page, SUB);
		await expect(page).toHaveURL(pathEquals('/login/code'));
		await expect(page.getByTestId('sso-second-step')).toContainText(
			'Your identity provider signed you in without showing a second factor'
		);
		await expectNoSeriousA11yViolations(page, 'the code step of an SSO sign-in', jsEnabled);
		// The next step: the one used to turn the app on cannot be used again.
		const next = on + 1n;
		while (stepNow() + 1n < next) await new Promise((r) => setTimeout(r, 250));
		await page.getByLabel('Code from your app').fill(codeAt(secret, next));
		await page.getByRole('button', { name: 'Continue' }).click();
		await expect(page).toHaveURL(pathEquals('/'));
		// (The password session of the settings steps is still there, in the cleared cookies' past.)
		const sessions = await sql`select "ssoSubject" from "Session" where method = 'oidc'`;
		expect(sessions).toEqual([{ ssoSubject: SUB }]);
	});

	test('no second factor here: the login page says why', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await sql`
			update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER},
				"oidcClientId" = 'librariarr-public', "oidcClientAuthMethod" = 'none', "ssoEnabled" = true,
				"ssoMfaRequired" = true, "ssoConfigVersion" = "ssoConfigVersion" + 1
			where id = 1
		`;
		await sql`
			update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${ISSUER}, "ssoSubject" = ${SUB}
			where id = ${admin.id}
		`;
		await gotoReady(page, '/login', jsEnabled);
		await page.getByRole('link', { name: 'Sign in with SSO' }).click();
		await signInAtIdp(page, SUB);
		await expect(page).toHaveURL(pathEquals('/login?sso_error=mfa_required'));
		const banner = page.getByRole('alert');
		await expect(banner).toContainText(
			'Two-factor is required for SSO sign-ins, and your account has no authenticator app or passkey here'
		);
		await expect(banner).toContainText('set up an authenticator app');
		const [row] = await sql`
			select detail from "AuditEvent"
			where event = 'login.failed' and detail->>'reason' = 'mfa_required'
		`;
		expect(row.detail.why).toBe('no-method');
	});
});
