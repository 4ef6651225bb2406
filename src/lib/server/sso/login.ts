// What the login page and the SSO endpoints agree on: which ways in a signed-out visitor is
// offered. The decision is the one rule's (rule/ways-in.ts), on the inputs rule/inputs.ts reads;
// this module only says what the page needs beside it.
import type { Cookies } from '@sveltejs/kit';
import { auditFailure } from '../audit';
import { config } from '../config';
import { sql } from '../db';
import { log } from '../log';
import {
	everyoneAccount,
	loadRuleInputs,
	offered,
	ruleSettings,
	type RuleInputs
} from '../rule/inputs';
import { offeredWays, type SsoOffer } from '../rule/ways-in';

/**
 * 'enabled': SSO is on, the button signs linked users in. 'probe': a configuration is saved but
 * nobody is linked yet, so the button can only end in not_linked and logs the subject for the
 * link form. 'off': no button.
 */
export type SsoAvailability = SsoOffer;

/**
 * Everything the login page offers a signed-out visitor at `rpId` (the host passkeys must be
 * made for), as the rule decides it: the password form, the Plex button, the SSO button (its
 * words, and where it leads), and passkeys. One query.
 */
export async function loginPageWays(rpId: string) {
	const inputs = await loadRuleInputs(sql, { rpId });
	const ssoPath =
		inputs.settings.ssoMode === 'OIDC' ? '/api/auth/sso/oidc/login' : '/api/auth/sso/forward';
	return {
		...offered(inputs),
		ssoPath,
		ssoAutoRedirect: inputs.page.ssoAutoRedirect,
		ssoButtonText: inputs.page.ssoButtonText
	};
}

/** Whether the SSO endpoints may start a sign-in (or a probe) now. */
export async function ssoAvailability(rpId: string): Promise<SsoAvailability> {
	return offered(await loadRuleInputs(sql, { rpId })).sso;
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
	if (p.has('manual') || p.has('signed_out') || p.has('sso_error') || p.has('paused')) return false;
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
export function waysOnceSsoIsOn(inputs: RuleInputs) {
	const { settings, everyone } = inputs;
	const once = offeredWays(
		// SSO is switched on only once step 1 is saved: describe that state, not a half-saved one.
		{ ...ruleSettings(settings), ssoEnabled: true, ssoConfigured: true },
		[everyoneAccount(inputs)],
		// The override is the way back, not the state step 3 describes.
		{ ...inputs.env, override: false }
	);
	return {
		...once,
		passwordHidden: !once.local && settings.localAuthEnabled && everyone.anyPassword
	};
}
