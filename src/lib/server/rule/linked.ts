// Which stored SSO link counts as "linked" for the saved SSO settings: an input of the rule
// (ways-in.ts `ssoLinked`), and what the callback, linking and the settings page compare with.
// Pure; issuers are compared by issuer.ts. scripts/reset-auth.js carries a marked copy of
// `identityFits` and what it calls, which tests/unit/ways-in.test.ts checks against this one.

import { issuerCovers } from './issuer';

export type SsoMode = 'OIDC' | 'FORWARD_AUTH';

/** The issuer stored with every forward-auth link. */
export const FORWARD_AUTH_ISSUER = 'forward-auth';

/** A stored link (absent or with no subject: not linked). */
export type StoredIdentity =
	{ ssoIssuer: string | null; ssoProvider: string | null; ssoSubject: string | null } | undefined;

/** SSO can be offered at all: OIDC needs an issuer and a client ID; forward auth nothing. */
export function isConfigured(sso: {
	ssoMode: SsoMode;
	oidcIssuer: string | null;
	oidcClientId: string | null;
}) {
	if (sso.ssoMode === 'FORWARD_AUTH') return true;
	return Boolean(sso.oidcIssuer && sso.oidcClientId);
}

/** Does the user's linked identity belong to this mode (and, for OIDC, this issuer)? */
export function identityFits(user: StoredIdentity, mode: SsoMode, issuer: string | null) {
	if (!user?.ssoSubject) return false;
	if (mode === 'FORWARD_AUTH')
		return user.ssoProvider === 'forward-auth' && user.ssoIssuer === FORWARD_AUTH_ISSUER;
	return user.ssoProvider === 'oidc' && issuerCovers(issuer, user.ssoIssuer);
}
