// Every sentence the Single Sign-On card's actions say, in one place: the words a user reads
// (and a test greps for) are changed here, not hunted through the actions.
import type { ClaimLockOut, Reenable } from '$lib/server/sso';

export const SSO_TEXT = {
	lockout:
		'That change would switch SSO login off, and you have no local password and no Plex link to get back in. Set a password or link Plex first.',
	saveOidcFirst: 'Save an OIDC configuration in step 1 first.',
	saveForwardFirst: 'Save a Forward Auth configuration in step 1 first.',
	nothingChanged: 'Nothing changed.',
	saved: 'Configuration saved. The previous settings can be restored with Revert to Previous.',
	savedSsoOff:
		'Configuration saved. SSO login was switched off because your linked identity does not belong to the new settings; link again in step 2.',
	issuerFirst: 'Enter the issuer URL first.',
	clientIdFirst: 'Enter the client ID first.',
	secretAgain:
		'The client secret you typed for Test Discovery is not sent back to this page: type it again, then Save Configuration.',
	publicClientRefused:
		'No client secret is saved, and the provider lists no public-client method (none): Verify & Link will be refused. Enter the client secret and save again, or register the client as public at the provider.',
	discoveryFailed: 'OIDC discovery failed',
	discoveryOk: 'Discovery succeeded.',
	noPrevious: 'There is no previous configuration to restore.',
	reverted:
		'Previous configuration restored. SSO login is off until you enable it again in step 3.',
	unknownPreset: 'Unknown preset.',
	presetFilled: (label: string) =>
		`${label} header names filled in. Save Configuration to keep them.`,
	multiTenantManual:
		'With a multi-tenant issuer the link must record your tenant: use Verify & Link via OIDC instead.',
	subjectTaken: 'Another account is already linked to that subject.',
	identityTaken: 'Another account is already linked to that identity.',
	linked: 'Identity linked. Your other sessions were signed out.',
	linkedRequest: (subject: string) => `Linked ${subject}. Your other sessions were signed out.`,
	untrustedRequest:
		'This request did not come through a trusted proxy, so its headers cannot be used. See the forward-auth panel above.',
	missingHeader: (header: string) =>
		`The proxy did not send a usable ${header} header with this request.`,
	notLinked: 'No SSO identity is linked.',
	linkLocksOut:
		'SSO is your only way in, and that identity does not fit the current SSO settings: linking it would lock you out.',
	unlinkRefused:
		'Unlinking would leave you with no way to sign in. Set a local password (or link Plex) first.',
	unlinked:
		'SSO identity unlinked and SSO login switched off. Your other sessions were signed out.',
	ssoOn: 'SSO login is on. Sign out and try it before relying on it.',
	ssoOff: 'SSO login is off.',
	noFallback:
		'You have no local password and no Plex link: if your identity provider fails, only the recovery steps in the README will get you back in.'
} as const;

/** Why step 3's switch was refused (the forward-auth proof brings its own words). */
export const SWITCH_REFUSALS = {
	override: 'SSO_DISABLE_OVERRIDE is set: SSO cannot be enabled until it is removed.',
	'not-configured': SSO_TEXT.saveOidcFirst,
	'not-linked':
		'Link your identity for the current SSO settings in step 2 before enabling SSO login.',
	'would-lock-out': SSO_TEXT.lockout
} as const;

/** "Required claim": its form's words. */
export const CLAIM_TEXT = {
	pathFirst: 'Enter the claim path the accepted values are looked for in, or clear the values.',
	valuesFirst: 'Enter at least one accepted value, one a line.',
	tooMany: 'Enter at most 50 accepted values.',
	nothingChanged: 'Nothing changed.',
	saved: (path: string) =>
		`Required claim saved: an OIDC sign-in now needs one of the accepted values in “${path}”.`,
	cleared: 'Required claim removed: any linked identity can sign in again.'
} as const;

/** "Require two-factor for SSO sign-ins": its form's words. */
export const MFA_TEXT = {
	tooMany: 'Enter at most 20 values.',
	nothingAccepted: 'Enter at least one amr or acr value that counts as two-factor.',
	age: 'Enter a whole number of minutes from 5 to 43200 (30 days).',
	nothingChanged: 'Nothing changed.',
	on: 'Two-factor is now required for SSO sign-ins: without proof from the provider, Librariarr asks for its own.',
	off: 'Two-factor is no longer required for SSO sign-ins.',
	lockOut:
		'This would lock you out: your last SSO sign-in did not show an accepted second factor (amr or acr), and your account has no authenticator app or passkey here. Set up an authenticator app in Settings → Security, or sign in with SSO using your second factor at the provider, then try again.'
} as const;

/**
 * Why a rule would lock the admin out (claim-rule.ts): at saving the rule while SSO is on, and at
 * switching SSO on while it is set.
 */
export function claimLockOutText(refusal: ClaimLockOut) {
	if (refusal.reason === 'claims-unseen')
		return 'Librariarr has not seen your own claims for the identity linked now, so it cannot tell whether this rule would let you in. Use Verify & Link via OIDC in step 2 (or sign in with SSO) first, then try again.';
	const dropped = refusal.dropped.length
		? ` (Some large claims of that sign-in were not kept: ${refusal.dropped.slice(0, 3).join(', ')}.)`
		: '';
	return `Your own claims from your last SSO sign-in or Verify & Link do not satisfy this rule, so it would lock you out: ${refusal.words}${dropped} Change the rule, or get the group or role at the provider and use Verify & Link again.`;
}

/** The banners of Verify & Link's return to the settings page (`?sso_link_error=`). */
export const LINK_ERRORS: Record<string, string> = {
	state_mismatch:
		'The verification was not accepted: it usually means it took longer than ten minutes or was started in another tab. Nothing was changed. Try Verify & Link again.',
	token_exchange_failed:
		'Your identity provider could not be verified. Check the client ID, client secret and redirect URI; the log has the details, and Check client credentials in step 1 asks the provider about the client ID and secret.',
	sso_not_configured: SSO_TEXT.saveOidcFirst,
	already_linked: 'That identity is already linked to another account.',
	claim_required:
		'The identity was not linked: its claims do not satisfy the Required claim rule (below step 1). Change the rule, or get the group or role at the provider, and try again.'
};

/** Said after a change that switched SSO off and turned another way in back on. */
export function reenabledText(reenable: Reenable) {
	return reenable.local
		? ' Local sign-in was turned back on so that you keep a way in.'
		: reenable.plex
			? ' Plex sign-in was turned back on so that you keep a way in.'
			: '';
}
