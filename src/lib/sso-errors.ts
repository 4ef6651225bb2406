// The banner texts for `/login?sso_error=<code>`. Unknown codes show nothing: a query string is
// never reflected onto the page.
export const SSO_ERRORS: Record<string, string> = {
	not_linked: 'Your SSO account is not linked to a Librariarr user',
	state_mismatch: 'SSO request expired or was tampered with',
	token_exchange_failed: 'Failed to verify your identity with the SSO provider',
	missing_user_header: 'Forward-auth proxy did not provide a user identity header',
	sso_not_configured: 'SSO is not configured',
	claim_required:
		'Your SSO account does not have the group or role this Librariarr requires (Required claim)',
	mfa_required:
		'Two-factor is required for SSO sign-ins, and your account has no authenticator app or passkey here',
	untrusted_proxy:
		'This request did not come through a trusted proxy, so its identity headers were ignored. Add the proxy to TRUSTED_PROXIES (Settings → Authentication shows the exact line).'
};

/**
 * What follows a banner, when there is something calm to add: what it usually means and what to
 * do. The banner's own words above stay exactly as they are (people search for them).
 */
export const SSO_ERROR_HINTS: Record<string, string> = {
	token_exchange_failed:
		"The provider did not accept Librariarr's request, or its answer could not be checked: usually the client secret, the redirect URI or the server clocks. Your account is fine. An admin finds the provider's own words in the server log and in Settings → Authentication → Download diagnostics.",
	claim_required:
		'The identity provider signed you in, but the claim Librariarr checks (such as groups or roles) did not hold one of the accepted values, or was not sent at all. Ask the person who runs the identity provider to add you to the group or role. An admin finds the claim and what it held in the server log and in Settings → Security → sign-in history.',
	mfa_required:
		'The identity provider signed you in without proving a second factor (or too long ago), so Librariarr would ask for its own, but this account has none set up. Sign in at the provider with your second factor and try again, or sign in another way and set up an authenticator app in Settings → Security. An admin finds what the provider sent in the server log and in Settings → Security → sign-in history.',
	state_mismatch:
		'This usually means the sign-in took longer than ten minutes, or was started in another tab or window. Your account is fine: start again.'
};

/**
 * The state_mismatch hint when the browser held no sign-in at all (no flow cookie reached the
 * callback, `&flow=none`): nobody started this sign-in here, so "tampered with" is not the
 * likely story and the hint says what is.
 */
export const SSO_NOT_STARTED_HINT =
	'This browser has no sign-in in progress: the page came from an old tab, a bookmark of the return address or a link, or the sign-in was started in another browser or more than ten minutes ago. Nothing happened to your account: start again.';

/** Codes after which starting SSO again is the fix: their banner has a "Try again" link. */
export const SSO_ERRORS_RETRY: ReadonlySet<string> = new Set(['state_mismatch']);
