// What an OpenID provider says about itself: its discovery document and its signing keys, fetched
// and checked here and cached per issuer for every other part of the OIDC code.
//
// Model: anonymous visitors make the app ask the provider (every "Sign in with SSO" needs the
// authorization endpoint, every callback the keys), so the provider must not be asked once per
// visitor. Per issuer there is one cache entry holding the document and the key set; at most one
// fetch of each is in flight, whatever the number of visitors waiting for it; a failed fetch is
// remembered for a few seconds so that a dead provider is not hammered either. Entries are keyed
// by the "ssoConfigVersion" of "AppSettings": a save or revert on any instance moves it on, and the
// first request that sees the new number drops every entry on this instance. At most
// MAX_CACHED_ISSUERS entries are kept (least recently used goes first).
//
// Discovery and JWKS fetches follow up to three redirects, never from https to plain http; the
// document's `issuer` must still be the configured one (trailing slash aside), or, for Microsoft
// Entra's multi-tenant endpoints, a template with `{tenantid}` that the configured issuer fits.
import { createRemoteJWKSet, customFetch, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { cappedFetch, DEFAULT_TIMEOUT_MS, HttpError, parseJson } from '../../http';
import { noteProviderDate } from './provider-clock';
import { classifyProviderFailure, describeProviderFailure } from './provider-failure';
import { sanitizeProviderText } from './oidc-client-auth';
import { issuerFitsConfigured, trimSlash } from '../../rule/issuer';

export type Discovery = {
	issuer: string;
	authorization_endpoint: string;
	token_endpoint: string;
	jwks_uri: string;
	userinfo_endpoint?: string;
	id_token_signing_alg_values_supported?: string[];
	userinfo_signing_alg_values_supported?: string[];
	authorization_response_iss_parameter_supported?: boolean;
	code_challenge_methods_supported?: string[];
	token_endpoint_auth_methods_supported?: string[];
	claims_supported?: string[];
	end_session_endpoint?: string;
	backchannel_logout_supported?: boolean;
	backchannel_logout_session_supported?: boolean;
};

/** The Test Discovery outcome, in the words admins see. */
export class DiscoveryError extends Error {}

export const MAX_REDIRECTS = 3;
export const DISCOVERY_TTL_MS = 60 * 60 * 1000;
/** How long a failed discovery fetch is remembered before the provider is asked again. */
export const FAILURE_TTL_MS = 10 * 1000;
export const MAX_CACHED_ISSUERS = 8;
/** jose refetches the key set after this long, or sooner for an unknown kid (cooldown below). */
const JWKS_MAX_AGE_MS = 10 * 60 * 1000;
/**
 * The tests' clock seam: jose measures the cooldown with the real clock inside the server process,
 * so a test that must see a key set age past it shortens it instead of waiting 30 s.
 */
const JWKS_COOLDOWN_MS =
	Number(process.env.OIDC_JWKS_COOLDOWN_MS) > 0
		? Number(process.env.OIDC_JWKS_COOLDOWN_MS)
		: 30_000;

let discoveryTimeoutMs = DEFAULT_TIMEOUT_MS;
/** Shortens the deadline of discovery and key fetches (for tests of a provider that never answers). */
export function setProviderTimeoutForTests(ms: number) {
	discoveryTimeoutMs = ms;
}

export function discoveryUrl(issuer: string) {
	return `${trimSlash(issuer)}/.well-known/openid-configuration`;
}

function isHttpUrl(value: unknown): value is string {
	if (typeof value !== 'string') return false;
	try {
		const url = new URL(value);
		return url.protocol === 'https:' || url.protocol === 'http:';
	} catch {
		return false;
	}
}

const stringList = (value: unknown) =>
	Array.isArray(value) && value.every((v) => typeof v === 'string')
		? (value as string[])
		: undefined;

/**
 * "OIDC issuer mismatch" (DESIGN's words) followed by both values, so that the admin sees at once
 * whether it is a trailing slash, http against https, or another realm. The provider's value is
 * its own text: sanitised and cut.
 */
export function issuerMismatch(reported: unknown, configured: string) {
	const theirs =
		typeof reported === 'string' ? `"${sanitizeProviderText(reported, 200)}"` : 'no issuer at all';
	return `OIDC issuer mismatch: the provider reports ${theirs}, but the configured issuer is "${configured}". The issuer URL must be exactly what the provider's discovery document says.`;
}

/** When the provider last answered, and last failed, each kind of fetch (this process). */
export type FetchMarks = {
	success: { at: number } | null;
	failure: { at: number; message: string } | null;
};
const marks: Record<'discovery' | 'keys', FetchMarks> = {
	discovery: { success: null, failure: null },
	keys: { success: null, failure: null }
};

/** The last success and failure of discovery and key-set fetches, for /healthz?detail=1. */
export function providerFetchMarks(): Readonly<Record<'discovery' | 'keys', FetchMarks>> {
	return {
		discovery: { ...marks.discovery },
		keys: { ...marks.keys }
	};
}

/** Records a fetch's outcome (one value per kind and outcome: bounded). */
async function marked<T>(kind: 'discovery' | 'keys', fetching: Promise<T>): Promise<T> {
	try {
		const result = await fetching;
		marks[kind].success = { at: Date.now() };
		return result;
	} catch (error) {
		const message =
			sanitizeProviderText((error as Error)?.message ?? String(error), 300) ?? 'no message';
		marks[kind].failure = { at: Date.now(), message };
		throw error;
	}
}

/** Fetches and checks a discovery document, bypassing every cache. */
export function fetchDiscovery(issuer: string): Promise<Discovery> {
	return marked('discovery', fetchDiscoveryUnmarked(issuer));
}

async function fetchDiscoveryUnmarked(issuer: string): Promise<Discovery> {
	let doc: unknown;
	const url = discoveryUrl(issuer);
	try {
		// fetchJson's steps, with the answer's Date header read on the way (provider-clock.ts).
		const res = await cappedFetch(
			url,
			{ headers: { accept: 'application/json' } },
			{ maxRedirects: MAX_REDIRECTS, timeoutMs: discoveryTimeoutMs }
		);
		noteProviderDate(res.headers.get('date'), url);
		if (!res.ok) throw new HttpError(`HTTP ${res.status}`, res.status, { url });
		doc = parseJson(await res.text(), res.status, url);
	} catch (error) {
		// "OIDC discovery failed (404): <url> …", and a hint per cause (provider-failure.ts).
		throw new DiscoveryError(
			describeProviderFailure('discovery', classifyProviderFailure(error, url))
		);
	}
	const d = doc as Record<string, unknown> | null;
	if (
		!d ||
		typeof d !== 'object' ||
		!isHttpUrl(d.authorization_endpoint) ||
		!isHttpUrl(d.token_endpoint) ||
		!isHttpUrl(d.jwks_uri)
	) {
		throw new DiscoveryError('OIDC discovery response missing required endpoints');
	}
	if (typeof d.issuer !== 'string' || !issuerFitsConfigured(d.issuer, issuer)) {
		throw new DiscoveryError(issuerMismatch(d.issuer, issuer));
	}
	return {
		issuer: d.issuer,
		authorization_endpoint: d.authorization_endpoint,
		token_endpoint: d.token_endpoint,
		jwks_uri: d.jwks_uri,
		userinfo_endpoint: isHttpUrl(d.userinfo_endpoint) ? d.userinfo_endpoint : undefined,
		id_token_signing_alg_values_supported: stringList(d.id_token_signing_alg_values_supported),
		userinfo_signing_alg_values_supported: stringList(d.userinfo_signing_alg_values_supported),
		authorization_response_iss_parameter_supported:
			d.authorization_response_iss_parameter_supported === true,
		code_challenge_methods_supported: stringList(d.code_challenge_methods_supported),
		token_endpoint_auth_methods_supported: stringList(d.token_endpoint_auth_methods_supported),
		claims_supported: stringList(d.claims_supported),
		end_session_endpoint: isHttpUrl(d.end_session_endpoint) ? d.end_session_endpoint : undefined,
		backchannel_logout_supported: d.backchannel_logout_supported === true,
		backchannel_logout_session_supported: d.backchannel_logout_session_supported === true
	};
}

type Entry = {
	version: number;
	doc: Discovery | null;
	error: unknown;
	/** When `doc` (or `error`) stops being served. */
	expiresAt: number;
	pending: Promise<Discovery> | null;
	keys: { uri: string; getKey: JWTVerifyGetKey } | null;
};

const cache = new Map<string, Entry>();
let newestVersion = -Infinity;

/** Forgets every cached document and key set, and the newest version seen (for tests). */
export function clearProviderCache() {
	cache.clear();
	newestVersion = -Infinity;
}

/** The entry for this issuer and configuration version, or null for an outdated version. */
function entryFor(issuer: string, version: number): Entry | null {
	if (version > newestVersion) {
		// A save or revert happened (here or on another instance): nothing cached is trusted.
		cache.clear();
		newestVersion = version;
	}
	if (version < newestVersion) return null;
	const key = trimSlash(issuer);
	let entry = cache.get(key);
	if (entry) {
		cache.delete(key); // re-inserted below: the Map's order is the recency order
	} else {
		entry = { version, doc: null, error: null, expiresAt: 0, pending: null, keys: null };
	}
	cache.set(key, entry);
	while (cache.size > MAX_CACHED_ISSUERS) cache.delete(cache.keys().next().value!);
	return entry;
}

/**
 * The issuer's discovery document, from the cache when it is there and younger than an hour;
 * otherwise fetched, once, however many callers ask at the same time. `configVersion` is the
 * "ssoConfigVersion" the caller read with the configuration.
 */
export async function getDiscovery(issuer: string, configVersion: number): Promise<Discovery> {
	const entry = entryFor(issuer, configVersion);
	if (!entry) return fetchDiscovery(issuer); // read before a save: answer it, cache nothing
	if (entry.pending) return entry.pending;
	if (Date.now() < entry.expiresAt) {
		if (entry.doc) return entry.doc;
		throw entry.error;
	}
	const pending = fetchDiscovery(issuer).then(
		(doc) => {
			if (entry.doc?.jwks_uri !== doc.jwks_uri) entry.keys = null;
			Object.assign(entry, { doc, error: null, expiresAt: Date.now() + DISCOVERY_TTL_MS });
			return doc;
		},
		(error) => {
			Object.assign(entry, { doc: null, error, expiresAt: Date.now() + FAILURE_TTL_MS });
			throw error;
		}
	);
	entry.pending = pending;
	try {
		return await pending;
	} finally {
		if (entry.pending === pending) entry.pending = null;
	}
}

/** The key set's fetch, failing with words that say what to fix rather than jose's generic ones. */
export function fetchKeySet(url: string, init: RequestInit = {}): Promise<Response> {
	return marked('keys', fetchKeySetUnmarked(url, init));
}

async function fetchKeySetUnmarked(url: string, init: RequestInit): Promise<Response> {
	let res: Response;
	try {
		res = await cappedFetch(url, init, {
			maxRedirects: MAX_REDIRECTS,
			timeoutMs: discoveryTimeoutMs
		});
	} catch (error) {
		throw new Error(describeProviderFailure('keys', classifyProviderFailure(error, url)));
	}
	if (res.status !== 200) {
		const failure = { kind: 'status', url, status: res.status } as const;
		throw new Error(describeProviderFailure('keys', failure));
	}
	return res;
}

function remoteKeySet(uri: string): JWTVerifyGetKey {
	// jose keeps one fetch in flight per set, refetches after JWKS_MAX_AGE_MS, and for a kid it
	// does not know at most once per JWKS_COOLDOWN_MS.
	const set = createRemoteJWKSet(new URL(uri), {
		timeoutDuration: 10_000,
		cooldownDuration: JWKS_COOLDOWN_MS,
		cacheMaxAge: JWKS_MAX_AGE_MS,
		// capped like every other call to the provider, and redirects as for discovery
		[customFetch]: (url, init) => fetchKeySet(url, init)
	});
	return async (header, token) => {
		try {
			return await set(header, token);
		} catch (error) {
			// A provider publishing one key without a kid does not name it in its tokens either;
			// if it does name one anyway, that single key is the only candidate.
			const keys = set.jwks()?.keys ?? [];
			if (
				error instanceof joseErrors.JWKSNoMatchingKey &&
				header.kid !== undefined &&
				keys.length === 1 &&
				keys[0].kid === undefined
			) {
				return set({ ...header, kid: undefined }, token);
			}
			throw error;
		}
	};
}

/**
 * The issuer's signing keys, as a key lookup for jose's jwtVerify. The set comes from the cached
 * discovery document's jwks_uri and is cached with it.
 */
export async function getJwks(issuer: string, configVersion: number): Promise<JWTVerifyGetKey> {
	const doc = await getDiscovery(issuer, configVersion);
	const entry = entryFor(issuer, configVersion);
	if (!entry) return remoteKeySet(doc.jwks_uri);
	if (entry.keys?.uri !== doc.jwks_uri) {
		entry.keys = { uri: doc.jwks_uri, getKey: remoteKeySet(doc.jwks_uri) };
	}
	return entry.keys.getKey;
}
