// "Required claim" in the browser, JavaScript on and off: a linked identity whose provider does
// not send an accepted value is sent back to the login page with a banner that says what is
// missing; and the settings form saves a rule (SSO off: no lock-out check) and refuses a bad path
// beside its field.
import { USERS } from '../helpers/idp.js';
import { expect, gotoReady, pathEquals, signIn, test } from './fixtures';
import { IDP, signInAtIdp } from './steps';

const ISSUER = IDP.issuer;
const IDP_ORIGIN = IDP.origin;
const SUB = USERS.username.sub;

test.describe('Required claim', () => {
	test('a sign-in without the required group lands on the login page with its banner', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await sql`
			update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER},
				"oidcClientId" = 'librariarr-public', "oidcClientAuthMethod" = 'none', "ssoEnabled" = true,
				"ssoRequiredClaim" = 'groups', "ssoRequiredClaimValues" = '{librariarr-admins}',
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
		await signInAtIdp(page, SUB);

		await expect(page).toHaveURL(pathEquals('/login?sso_error=claim_required'));
		const banner = page.getByRole('alert');
		await expect(banner).toContainText(
			'Your SSO account does not have the group or role this Librariarr requires (Required claim)'
		);
		await expect(banner).toContainText('Ask the person who runs the identity provider');
		const [row] = await sql`
			select detail from "AuditEvent"
			where event = 'login.failed' and detail->>'reason' = 'claim_required'
		`;
		expect(row.detail).toMatchObject({ claim: 'groups', held: 'nothing' });
	});

	test('the settings form saves a rule and refuses a bad path beside its field', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await sql`
			update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER},
				"oidcClientId" = 'librariarr-public', "ssoEnabled" = false
			where id = 1
		`;
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/authentication', jsEnabled);
		const section = page.getByTestId('sso-claim-rule');
		await section.getByLabel('Claim', { exact: true }).fill('realm access');
		await section.getByLabel('Accepted values').fill('librariarr');
		await section.getByRole('button', { name: 'Save Required Claim' }).click();
		const claim = page.getByTestId('sso-claim-rule').getByLabel('Claim', { exact: true });
		await expect(claim).toHaveAccessibleDescription(/cannot contain spaces/);
		await expect(claim).toHaveAttribute('aria-invalid', 'true');

		await claim.fill('realm_access.roles');
		await page
			.getByTestId('sso-claim-rule')
			.getByRole('button', { name: 'Save Required Claim' })
			.click();
		await expect(page.getByTestId('sso-claim-rule')).toContainText(
			'Required claim saved: an OIDC sign-in now needs one of the accepted values in “realm_access.roles”.'
		);
		const [settings] = await sql`
			select "ssoRequiredClaim" as path, "ssoRequiredClaimValues" as values from "AppSettings"
		`;
		expect(settings).toEqual({ path: 'realm_access.roles', values: ['librariarr'] });
	});
});
