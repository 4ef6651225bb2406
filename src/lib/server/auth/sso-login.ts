// What the login page and the SSO endpoints agree on: when "Sign in with SSO" is offered. The
// decision is the one rule's (plain/ways-in.js); this module only gathers its inputs.
import type { Cookies } from '@sveltejs/kit';
import { config } from '../config';
import { offeredWays, type SsoOffer } from '../plain/ways-in.js';
import { getSettings } from '../settings';
import { anyIdentityFits, getSsoConfig, type SsoConfig } from '../sso';

/**
 * 'enabled': SSO is on, the button signs linked users in. 'probe': a configuration is saved but
 * nobody is linked yet, so the button can only end in not_linked and logs the subject for the
 * link form. 'off': no button.
 */
export type SsoAvailability = SsoOffer;

export function isConfigured(sso: Pick<SsoConfig, 'ssoMode' | 'oidcIssuer' | 'oidcClientId'>) {
	if (sso.ssoMode === 'FORWARD_AUTH') return true;
	return Boolean(sso.oidcIssuer && sso.oidcClientId);
}

/** The inputs of the rule that do not come from the database. */
export function waysEnvironment() {
	return { override: config.ssoDisableOverride, trustedProxies: config.trustedProxies.length > 0 };
}

export async function ssoAvailability(sso: SsoConfig): Promise<SsoAvailability> {
	const configured = isConfigured(sso);
	const env = waysEnvironment();
	// Whether anyone is linked matters only for the probe state: skip the query otherwise.
	const linked = configured && !env.override && !sso.ssoEnabled && (await anyIdentityFits(sso));
	return offeredWays(
		{
			localAuthEnabled: false,
			plexLoginEnabled: false,
			ssoEnabled: sso.ssoEnabled,
			ssoMode: sso.ssoMode,
			ssoConfigured: configured
		},
		[{ hasPassword: false, hasPlex: false, ssoLinked: linked }],
		env
	).sso;
}

/**
 * Everything the login page offers a signed-out visitor, as the rule decides it: the password
 * form, the Plex button, the SSO button (and where it leads), and passkeys.
 */
export async function loginPageWays() {
	const [settings, sso] = await Promise.all([getSettings(), getSsoConfig()]);
	const env = waysEnvironment();
	const configured = isConfigured(sso);
	const linked = configured && !env.override && !sso.ssoEnabled && (await anyIdentityFits(sso));
	const offered = offeredWays(
		{
			localAuthEnabled: settings.localAuthEnabled,
			plexLoginEnabled: settings.plexLoginEnabled,
			ssoEnabled: sso.ssoEnabled,
			ssoMode: sso.ssoMode,
			ssoConfigured: configured,
			passkeyLoginEnabled: settings.passkeyLoginEnabled
		},
		[
			{
				hasPassword: settings.anyPassword,
				hasPlex: settings.anyPlex,
				ssoLinked: linked,
				passkeys: settings.anyPasskey ? 1 : 0
			}
		],
		env
	);
	const ssoPath = sso.ssoMode === 'OIDC' ? '/api/auth/sso/oidc/login' : '/api/auth/sso/forward';
	return { ...offered, ssoPath, ssoAutoRedirect: sso.ssoAutoRedirect };
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
	autoRedirect: boolean,
	availability: SsoAvailability,
	url: URL,
	cookies: Cookies
): boolean {
	if (!autoRedirect || availability !== 'enabled' || config.ssoDisableOverride) return false;
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
