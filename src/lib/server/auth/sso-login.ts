// What the login page and the SSO endpoints agree on: when "Sign in with SSO" is offered.
import type { Cookies } from '@sveltejs/kit';
import { config } from '../config';
import { anyIdentityFits, type SsoConfig } from '../sso';

export type SsoAvailability =
	/** SSO is on: the button signs linked users in. */
	| 'enabled'
	/** A configuration is saved but nobody is linked yet: the button can only end in not_linked,
	 *  and logs the subject so the admin can paste it into the link form. */
	| 'probe'
	| 'off';

export function isConfigured(sso: SsoConfig) {
	if (sso.ssoMode === 'FORWARD_AUTH') return true;
	return Boolean(sso.oidcIssuer && sso.oidcClientId);
}

export async function ssoAvailability(sso: SsoConfig): Promise<SsoAvailability> {
	if (config.ssoDisableOverride || !isConfigured(sso)) return 'off';
	if (sso.ssoEnabled) return 'enabled';
	return (await anyIdentityFits(sso)) ? 'off' : 'probe';
}

/** Set when /login sends a browser straight to SSO; while it lasts, /login shows itself. */
export const AUTO_REDIRECT_COOKIE = 'librariarr_sso_auto';
export const AUTO_REDIRECT_WINDOW_S = 30;

/**
 * Whether GET /login sends this visit straight to the SSO start ("Send visitors straight to the
 * identity provider"). Never: unless SSO is on (so never under SSO_DISABLE_OVERRIDE), after
 * sign-out (`signed_out`), with an SSO error in the URL, with `?manual=1`, or when this browser
 * was sent there in the last AUTO_REDIRECT_WINDOW_S seconds (a failing provider that sends the
 * browser straight back must not make a redirect loop).
 */
export function autoRedirectAllowed(
	sso: SsoConfig,
	availability: SsoAvailability,
	url: URL,
	cookies: Cookies
): boolean {
	if (!sso.ssoAutoRedirect || availability !== 'enabled' || config.ssoDisableOverride) return false;
	const p = url.searchParams;
	if (p.has('manual') || p.has('signed_out') || p.has('sso_error')) return false;
	return cookies.get(AUTO_REDIRECT_COOKIE) === undefined;
}

export function rememberAutoRedirect(cookies: Cookies, secure: boolean) {
	cookies.set(AUTO_REDIRECT_COOKIE, '1', {
		path: '/login',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		maxAge: AUTO_REDIRECT_WINDOW_S
	});
}
