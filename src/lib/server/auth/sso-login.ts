// What the login page and the SSO endpoints agree on: when "Sign in with SSO" is offered.
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
