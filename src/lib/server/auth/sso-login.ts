// What the login page and the SSO endpoints agree on: when "Sign in with SSO" is offered. The
// decision is the one rule's (plain/ways-in.js); this module only gathers its inputs.
import type { Cookies } from '@sveltejs/kit';
import { auditFailure } from '../audit';
import { config } from '../config';
import { log } from '../log';
import {
	offeredWays,
	type SsoOffer,
	type WaysAccount,
	type WaysSettings
} from '../plain/ways-in.js';
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
 * The rule's inputs as the login page sees them: the stored settings, every account folded into
 * one (the page does not know who is looking) and the environment; with the SSO configuration.
 */
export async function loginPageInputs() {
	const [settings, sso] = await Promise.all([getSettings(), getSsoConfig()]);
	const env = waysEnvironment();
	const configured = isConfigured(sso);
	const linked = configured && !env.override && !sso.ssoEnabled && (await anyIdentityFits(sso));
	const rule: WaysSettings = {
		localAuthEnabled: settings.localAuthEnabled,
		plexLoginEnabled: settings.plexLoginEnabled,
		ssoEnabled: sso.ssoEnabled,
		ssoMode: sso.ssoMode,
		ssoConfigured: configured,
		passkeyLoginEnabled: settings.passkeyLoginEnabled
	};
	const accounts: WaysAccount[] = [
		{
			hasPassword: settings.anyPassword,
			hasPlex: settings.anyPlex,
			ssoLinked: linked,
			passkeys: settings.anyPasskey ? 1 : 0
		}
	];
	return { settings, sso, env, rule, accounts };
}

/**
 * Everything the login page offers a signed-out visitor, as the rule decides it: the password
 * form, the Plex button, the SSO button (its words, and where it leads), and passkeys.
 */
export async function loginPageWays() {
	const { settings, sso, env, rule, accounts } = await loginPageInputs();
	const offered = offeredWays(rule, accounts, env);
	const ssoPath = sso.ssoMode === 'OIDC' ? '/api/auth/sso/oidc/login' : '/api/auth/sso/forward';
	return {
		...offered,
		ssoPath,
		ssoAutoRedirect: sso.ssoAutoRedirect,
		ssoButtonText: settings.ssoButtonText
	};
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

/**
 * Marks the admin's browser while SSO is being set up (saved, not switched on): in the probe
 * state the login page shows "Sign in with SSO" to this browser only (it finds the subject to
 * link and signs nobody in), not as a full-weight button to every visitor of a half-finished
 * wizard. A day is long enough to sign out and try; `/login?sso_setup=1` does it elsewhere.
 */
export const SSO_SETUP_COOKIE = 'librariarr_sso_setup';

export function rememberSsoSetup(cookies: Cookies, secure: boolean) {
	cookies.set(SSO_SETUP_COOKIE, '1', {
		path: '/login',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		maxAge: 24 * 60 * 60
	});
}

/** Whether the login page shows the SSO button: when SSO is on, or to the admin setting it up. */
export function ssoButtonShown(availability: SsoAvailability, url: URL, cookies: Cookies) {
	if (availability === 'enabled') return true;
	if (availability !== 'probe') return false;
	return cookies.get(SSO_SETUP_COOKIE) === '1' || url.searchParams.get('sso_setup') === '1';
}

/**
 * An SSO sign-in whose identity is linked to nobody: one log line that names the subject (the
 * admin pastes it into "Link Manually") and one audit row. The OIDC callback and the forward-auth
 * endpoint both end here before sending the browser to `/login?sso_error=not_linked`.
 */
export async function rejectNotLinked(
	method: 'oidc' | 'forward-auth',
	subject: string,
	ip: string | null
) {
	// Printed as it is, except that control characters (a forged line break) are escaped.
	const printable = subject.replace(
		/[\u0000-\u001f\u007f]/g,
		(c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
	);
	log.warn(
		method === 'oidc'
			? `OIDC login rejected: no linked account for sub=${printable}`
			: `Forward-auth login rejected: no linked account for user=${printable}`
	);
	// Counted, not stored: the identity names no account here (the row keeps the first subject of
	// its window; the log line above names every one).
	await auditFailure({
		event: 'login.failed',
		method,
		ip,
		detail: { reason: 'not_linked', subject }
	});
}

/**
 * What the login page will offer a signed-out visitor once SSO is switched on (step 3 says it
 * before the switch), as the rule decides it for the current settings and accounts.
 */
export async function waysOnceSsoIsOn() {
	const [settings, sso] = await Promise.all([getSettings(), getSsoConfig()]);
	const offered = offeredWays(
		{
			localAuthEnabled: settings.localAuthEnabled,
			plexLoginEnabled: settings.plexLoginEnabled,
			ssoEnabled: true,
			ssoMode: sso.ssoMode,
			// SSO is switched on only once step 1 is saved: describe that state, not a half-saved one.
			ssoConfigured: true
		},
		[{ hasPassword: settings.anyPassword, hasPlex: settings.anyPlex, ssoLinked: true }],
		// The override is the way back, not the state step 3 describes.
		{ ...waysEnvironment(), override: false }
	);
	return {
		...offered,
		passwordHidden: !offered.local && settings.localAuthEnabled && settings.anyPassword
	};
}
