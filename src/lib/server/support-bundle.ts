// "Download diagnostics" (Settings → Authentication): one JSON file for a bug report, made so
// that it can be attached to a public issue as it is. It holds what a maintainer needs to tell a
// provider quirk from a proxy mistake: the app version, the provider's discovery document, its
// signing keys' ids and algorithms, how the redirect URI and the cookie flags were worked out,
// the client-authentication variant in use and why, what sign-ins saw the provider send (the ID
// token's algorithm, where the username claim came from), and the last failed SSO sign-ins.
//
// Never in it: a secret, a token, a code, a cookie, a key's material, a full SSO subject. The
// bundle is built from an allowlist (every field below is chosen, nothing is copied wholesale
// from a row), subjects appear as a short hash, and as a last guard the client secret is cut out
// of the finished text should a provider have echoed it anywhere. Bounded: ten flows, the key list
// capped, every provider string sanitised and cut.
import { createHash } from 'node:crypto';
import { sql } from './db';
import { config } from './config';
import { diagnose } from './diagnostics';
import type { ClientInfo } from './client';
import { getSsoConfig, type SsoConfig } from './sso/config';
import { SESSION_COOKIE } from './auth/session';
import { flowCookieName } from './auth/sign-in-flows';
import { getDiscovery, MAX_REDIRECTS, type Discovery } from './auth/sources/oidc-discovery';
import { sanitizeProviderText, variantsToTry } from './auth/sources/oidc-client-auth';
import { clockWords, lastClockReading } from './auth/sources/provider-clock';
import { fetchJson } from './http';
import pkg from '../../../package.json';

/** How many failed SSO sign-ins the bundle lists. */
export const BUNDLE_FLOWS = 10;
/** A provider publishing more keys than this is unusual; the rest are counted, not listed. */
const MAX_KEYS = 20;

export type BundleInput = {
	client: ClientInfo;
	headers: Headers;
	host: string;
	secureCookies: boolean;
};

/** A short, stable stand-in for an SSO subject: enough to tell two apart, not to look one up. */
export function subjectHash(subject: string) {
	return `sha256:${createHash('sha256').update(subject).digest('hex').slice(0, 12)}`;
}

const text = (value: unknown, max = 300) => sanitizeProviderText(value, max);

/** The key set's public descriptors only: no modulus, exponent or curve point. */
async function keyDescriptors(doc: Discovery) {
	try {
		const jwks = (await fetchJson(
			doc.jwks_uri,
			{ headers: { accept: 'application/json' } },
			{ maxRedirects: MAX_REDIRECTS }
		)) as { keys?: unknown };
		const keys = Array.isArray(jwks?.keys) ? (jwks.keys as Record<string, unknown>[]) : [];
		return {
			count: keys.length,
			keys: keys.slice(0, MAX_KEYS).map((k) => ({
				kid: text(k?.kid, 100),
				kty: text(k?.kty, 20),
				alg: text(k?.alg, 20),
				use: text(k?.use, 20),
				crv: text(k?.crv, 20)
			})),
			error: null
		};
	} catch (error) {
		return { count: 0, keys: [], error: text(String(error)) };
	}
}

async function provider(sso: SsoConfig) {
	if (sso.ssoMode !== 'OIDC' || !sso.oidcIssuer) return null;
	let doc: Discovery;
	try {
		doc = await getDiscovery(sso.oidcIssuer, sso.ssoConfigVersion);
	} catch (error) {
		return { discovery: null, discoveryError: text((error as Error).message), jwks: null };
	}
	return { discovery: doc, discoveryError: null, jwks: await keyDescriptors(doc) };
}

function clientAuth(sso: SsoConfig, supported: string[] | undefined) {
	const credentials = { clientId: sso.oidcClientId ?? '', clientSecret: sso.clientSecret };
	const order = variantsToTry(
		sso.oidcClientAuthMethod,
		credentials,
		supported,
		sso.clientAuthLearnt
	);
	const why = sso.clientAuthLearnt
		? `learnt: the provider accepted ${sso.clientAuthLearnt} for this issuer and client id`
		: sso.oidcClientAuthMethod === 'auto'
			? 'automatic: chosen from the methods the discovery document lists'
			: `set by an admin to ${sso.oidcClientAuthMethod}`;
	return {
		setting: sso.oidcClientAuthMethod,
		learnt: sso.clientAuthLearnt,
		tried: order,
		why,
		secretSet: sso.clientSecret !== null,
		secretUnreadable: sso.clientSecretUnreadable
	};
}

type FlowRow = {
	event: string;
	occurredAt: Date;
	lastOccurredAt: Date | null;
	count: number;
	detail: Record<string, unknown> | null;
};

/** The last failed OIDC sign-ins and Verify & Links from the audit trail, details redacted. */
async function failedFlows() {
	const rows = await sql<FlowRow[]>`
		select event, "occurredAt", "lastOccurredAt", count, detail from "AuditEvent"
		where event in ('login.failed', 'sso.link_failed') and method = 'oidc'
		order by "occurredAt" desc limit ${BUNDLE_FLOWS}
	`;
	return rows.map((row) => {
		const detail = row.detail ?? {};
		return {
			event: row.event,
			at: row.occurredAt.toISOString(),
			lastAt: row.lastOccurredAt?.toISOString() ?? null,
			count: row.count,
			step: text(detail.reason, 64),
			providerError: text(detail.error, 800),
			subject: typeof detail.subject === 'string' ? subjectHash(detail.subject) : null
		};
	});
}

/** The bundle, as the text of the file. */
export async function supportBundle(input: BundleInput): Promise<string> {
	const sso = await getSsoConfig();
	const seen = diagnose({ ...input, config, forwardAuth: null });
	const [idp, flows] = await Promise.all([provider(sso), failedFlows()]);
	const clock = lastClockReading();
	const cookie = (name: string, path: string) => ({
		name,
		path,
		httpOnly: true,
		sameSite: 'Lax',
		secure: input.secureCookies
	});
	const bundle = {
		kind: 'librariarr-diagnostics',
		format: 1,
		createdAt: new Date().toISOString(),
		app: { name: pkg.name, version: pkg.version, node: process.version },
		sso: {
			mode: sso.ssoMode,
			enabled: sso.ssoEnabled,
			issuer: sso.oidcIssuer,
			clientId: sso.oidcClientId,
			scopes: sso.oidcScopes,
			usernameClaim: sso.oidcUsernameClaim,
			disabledByOverride: config.ssoDisableOverride,
			// What sign-ins saw the provider send: the ID token algorithm, the username claim's source.
			seen: sso.observed
		},
		provider: idp,
		clientAuth:
			sso.ssoMode === 'OIDC'
				? clientAuth(sso, idp?.discovery?.token_endpoint_auth_methods_supported)
				: null,
		redirectUri: {
			value: seen.redirectUri,
			origin: seen.origin,
			// ORIGIN (the environment), forwarded (headers from a trusted proxy) or host (the request)
			derivedFrom: seen.originSource,
			peerTrusted: seen.peerTrusted,
			trustedProxies: seen.trustedProxies,
			problems: seen.problems.map(({ id, message }) => ({ id, message }))
		},
		cookies: {
			secure: seen.secureCookies,
			secureWhy: seen.secureCookiesWhy,
			session: cookie(SESSION_COOKIE, '/'),
			oidcFlow: cookie(flowCookieName('oidc'), '/api/auth/sso/oidc')
		},
		// The provider's time minus ours at the last discovery or token request (its Date header).
		clock: clock
			? {
					offsetSeconds: clock.seconds,
					measuredAt: new Date(clock.at).toISOString(),
					from: clock.from,
					words: clockWords(clock.seconds)
				}
			: null,
		failedSignIns: flows
	};
	let out = JSON.stringify(bundle, null, 2);
	// The last guard: a provider echoing the secret into an error text must not carry it out.
	if (sso.clientSecret && sso.clientSecret.length >= 4) {
		out = out.split(sso.clientSecret).join('[redacted]');
	}
	return out;
}
