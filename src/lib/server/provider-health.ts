// What /healthz?detail=1 adds about the way in that depends on someone else: for OIDC, when this
// instance last reached the provider's discovery document and key set (and last failed to, with
// the words), the provider's clock against ours, and whether a sign-in would work right now —
// checked by asking the provider for both, at most once per CHECK_TTL_MS however often a scraper
// asks (the answer is kept: one value). For forward auth there is no provider to ask: whether it
// would work is whether SSO is on and a proxy is trusted.
import { config } from './config';
import { withinBudget } from './health';
import { getSsoConfig } from './sso';
import { oidcReady } from './sso/availability';
import { fetchKeySet, getDiscovery, providerFetchMarks } from './auth/sources/oidc-discovery';
import { CLOCK_LIMIT_S, clockWords, lastClockReading } from './auth/sources/provider-clock';

export const CHECK_TTL_MS = 10_000;

type Mark = { at: string; message?: string } | null;

export type ProviderHealth = {
	mode: 'oidc' | 'forward-auth';
	ssoEnabled: boolean;
	/** Whether an SSO sign-in would work right now; `why` says what stops it when not. */
	signInWouldWork: boolean;
	why: string | null;
	discovery: { lastSuccess: Mark; lastFailure: Mark } | null;
	keys: { lastSuccess: Mark; lastFailure: Mark } | null;
	clock: { offsetSeconds: number; measuredAt: string; withinLimit: boolean } | null;
	checkedAt: string;
};

let kept: { until: number; version: number; health: ProviderHealth } | null = null;

const iso = (at: number) => new Date(at).toISOString();

/** Why the provider cannot be used now (null when it can): discovery, then its keys, then the clock. */
async function oidcProblem(issuer: string, version: number): Promise<string | null> {
	let jwksUri: string;
	try {
		jwksUri = (await getDiscovery(issuer, version)).jwks_uri;
	} catch (error) {
		return `discovery failed: ${(error as Error).message}`;
	}
	try {
		const res = await fetchKeySet(jwksUri, { headers: { accept: 'application/json' } });
		const body = (await res.json()) as { keys?: unknown };
		if (!Array.isArray(body?.keys) || body.keys.length === 0) {
			return 'the provider’s key set holds no keys, so no ID token can be verified';
		}
	} catch (error) {
		return `the key set could not be read: ${(error as Error).message}`;
	}
	const clock = lastClockReading();
	return clock ? clockWords(clock.seconds) : null;
}

function marks() {
	const m = providerFetchMarks();
	const mark = (v: { at: number; message?: string } | null): Mark =>
		v ? { at: iso(v.at), ...(v.message ? { message: v.message } : {}) } : null;
	return {
		discovery: { lastSuccess: mark(m.discovery.success), lastFailure: mark(m.discovery.failure) },
		keys: { lastSuccess: mark(m.keys.success), lastFailure: mark(m.keys.failure) }
	};
}

/** The provider's health, or null when SSO is neither on nor set up (nothing to report). */
export async function providerHealth(now = Date.now()): Promise<ProviderHealth | null> {
	// Only the settings' read is the database's budget; the provider's answers have their own deadlines.
	const sso = await withinBudget(() => getSsoConfig());
	if (kept && kept.until > now && kept.version === sso.ssoConfigVersion) return kept.health;
	let health: ProviderHealth | null = null;
	if (sso.ssoMode === 'FORWARD_AUTH') {
		const why = !sso.ssoEnabled
			? 'single sign-on is off'
			: config.ssoDisableOverride
				? 'SSO_DISABLE_OVERRIDE is on'
				: config.trustedProxies.length === 0
					? 'TRUSTED_PROXIES is empty, so no proxy’s identity headers are believed'
					: null;
		health = {
			mode: 'forward-auth',
			ssoEnabled: sso.ssoEnabled,
			signInWouldWork: why === null,
			why,
			discovery: null,
			keys: null,
			clock: null,
			checkedAt: iso(now)
		};
	} else if (oidcReady(sso)) {
		const problem = await oidcProblem(sso.oidcIssuer, sso.ssoConfigVersion);
		const why = !sso.ssoEnabled
			? 'single sign-on is off'
			: config.ssoDisableOverride
				? 'SSO_DISABLE_OVERRIDE is on'
				: problem;
		const clock = lastClockReading();
		health = {
			mode: 'oidc',
			ssoEnabled: sso.ssoEnabled,
			signInWouldWork: why === null,
			why,
			...marks(),
			clock: clock && {
				offsetSeconds: clock.seconds,
				measuredAt: iso(clock.at),
				withinLimit: Math.abs(clock.seconds) <= CLOCK_LIMIT_S
			},
			checkedAt: iso(now)
		};
	}
	if (health) kept = { until: now + CHECK_TTL_MS, version: sso.ssoConfigVersion, health };
	return health;
}
