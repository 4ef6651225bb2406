// The banner texts for `/login?sso_error=<code>`. Unknown codes show nothing: a query string is
// never reflected onto the page.
export const SSO_ERRORS: Record<string, string> = {
	not_linked: 'Your SSO account is not linked to a Librariarr user',
	state_mismatch: 'SSO request expired or was tampered with',
	token_exchange_failed: 'Failed to verify your identity with the SSO provider',
	missing_user_header: 'Forward-auth proxy did not provide a user identity header',
	sso_not_configured: 'SSO is not configured',
	untrusted_proxy:
		'This request did not come through a trusted proxy, so its identity headers were ignored. Add the proxy to TRUSTED_PROXIES (Settings → Authentication shows the exact line).'
};
