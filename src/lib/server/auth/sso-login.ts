// What the login page and the SSO endpoints agree on: when "Sign in with SSO" is offered. The
// decision is the one rule's (plain/ways-in.js); this module only gathers its inputs.
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
			ssoConfigured: configured
		},
		[{ hasPassword: settings.anyPassword, hasPlex: settings.anyPlex, ssoLinked: linked }],
		env
	);
	const ssoPath = sso.ssoMode === 'OIDC' ? '/api/auth/sso/oidc/login' : '/api/auth/sso/forward';
	return { ...offered, ssoPath };
}
