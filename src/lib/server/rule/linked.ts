// Which stored SSO link counts as "linked" for the saved SSO settings: an input of the rule
// (ways-in.ts `ssoLinked`), and what the callback, linking and the settings page compare with.
// Pure. scripts/reset-auth.js carries a marked copy of `identityFits` and what it calls, which
// tests/unit/ways-in.test.ts checks against this one.

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

/** Issuers are compared without a trailing slash: providers differ on whether they advertise one. */
export function sameIssuer(a: string | null | undefined, b: string | null | undefined) {
	return !!a && !!b && a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** Microsoft Entra's authorities that stand for "any tenant" (their issuer is a template). */
const MULTI_TENANT_SEGMENTS = ['common', 'organizations', 'consumers'];

/** The path segments of an Entra-shaped issuer (`…/<authority>/v2.0`), or null. */
function entraSegments(issuer: string) {
	try {
		const url = new URL(issuer.replace(/\/+$/, ''));
		const segments = url.pathname.split('/');
		if (segments.length < 3 || segments.at(-1) !== 'v2.0') return null;
		return { origin: url.origin, segments };
	} catch {
		return null;
	}
}

/** A configured issuer whose tokens name their own tenant (Entra `…/common/v2.0`). */
export function isMultiTenantIssuer(issuer: string | null | undefined) {
	const parts = issuer ? entraSegments(issuer) : null;
	return !!parts && MULTI_TENANT_SEGMENTS.includes(parts.segments.at(-2)!);
}

/**
 * Whether an identity linked under `linked` belongs to the configured issuer: the same issuer, or,
 * for a multi-tenant configuration, the same URL with one real tenant in place of `common`,
 * `organizations` or `consumers` (the link pins the tenant the admin signed in with).
 */
export function issuerCovers(
	configured: string | null | undefined,
	linked: string | null | undefined
) {
	if (sameIssuer(configured, linked)) return true;
	if (!configured || !linked || !isMultiTenantIssuer(configured)) return false;
	const a = entraSegments(configured)!;
	const b = entraSegments(linked);
	if (!b || a.origin !== b.origin || a.segments.length !== b.segments.length) return false;
	const tenant = a.segments.length - 2;
	return a.segments.every((segment, i) =>
		i === tenant
			? b.segments[i] !== '' && !MULTI_TENANT_SEGMENTS.includes(b.segments[i])
			: b.segments[i] === segment
	);
}

/** Does the user's linked identity belong to this mode (and, for OIDC, this issuer)? */
export function identityFits(user: StoredIdentity, mode: SsoMode, issuer: string | null) {
	if (!user?.ssoSubject) return false;
	if (mode === 'FORWARD_AUTH')
		return user.ssoProvider === 'forward-auth' && user.ssoIssuer === FORWARD_AUTH_ISSUER;
	return user.ssoProvider === 'oidc' && issuerCovers(issuer, user.ssoIssuer);
}
