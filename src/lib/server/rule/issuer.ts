// Every rule about issuer URLs in one place: a trailing slash never matters, Microsoft Entra's
// multi-tenant authorities (`…/common/v2.0`) cover the real tenant a link pins, and a discovery
// document's `{tenantid}` template stands for the tenant a token names. Pure: the rule (linked.ts),
// the sign-in and sign-out sources and the SSO settings all compare issuers with these.

const TENANT_PLACEHOLDER = '{tenantid}';

/** The issuer without its trailing slashes. */
export const trimSlash = (s: string) => s.replace(/\/+$/, '');

/** The stored spellings an issuer may have: as given, without and with one trailing slash. */
export function issuerSpellings(issuer: string) {
	return [issuer, trimSlash(issuer), trimSlash(issuer) + '/'];
}

/** Issuers are compared without a trailing slash: providers differ on whether they advertise one. */
export function sameIssuer(a: string | null | undefined, b: string | null | undefined) {
	return !!a && !!b && trimSlash(a) === trimSlash(b);
}

/** Microsoft Entra's authorities that stand for "any tenant" (their issuer is a template). */
const MULTI_TENANT_SEGMENTS = ['common', 'organizations', 'consumers'];

/** The path segments of an Entra-shaped issuer (`…/<authority>/v2.0`), or null. */
function entraSegments(issuer: string) {
	try {
		const url = new URL(trimSlash(issuer));
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

/** Whether the document's issuer is a multi-tenant template (Microsoft Entra `common`). */
export function isIssuerTemplate(docIssuer: string) {
	return docIssuer.includes(TENANT_PLACEHOLDER);
}

function templatePattern(template: string) {
	const parts = trimSlash(template)
		.split(TENANT_PLACEHOLDER)
		.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
	return new RegExp(`^${parts.join('[^/?#]+')}$`);
}

/**
 * Whether the discovery document belongs to the configured issuer: the same URL (trailing slash
 * aside), or a `{tenantid}` template the configured URL fits (`…/common/v2.0` fits
 * `…/{tenantid}/v2.0`).
 */
export function issuerFitsConfigured(docIssuer: string, configured: string) {
	if (trimSlash(docIssuer) === trimSlash(configured)) return true;
	return isIssuerTemplate(docIssuer) && templatePattern(docIssuer).test(trimSlash(configured));
}

/**
 * The issuer a token from tenant `tid` must carry: the document's issuer, with the tenant put in
 * when it is a template. Null when the template needs a tenant and `tid` is not a plain one.
 */
export function issuerForTenant(docIssuer: string, tid: unknown): string | null {
	if (!isIssuerTemplate(docIssuer)) return docIssuer;
	if (typeof tid !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(tid)) return null;
	return docIssuer.replaceAll(TENANT_PLACEHOLDER, tid);
}
