// OpenID Connect sign-in: Authorization Code with PKCE (S256), state and nonce.
//
// Model: nothing the browser or the provider sends is trusted until checked. The callback takes
// the login transaction by its state only when this browser started it (single use, ten
// minutes); checks the RFC 9207 `iss` parameter when the provider advertises it; exchanges the
// code with the client secret form-encoded inside HTTP Basic (RFC 6749 §2.3.1, which arctic does
// not do by itself); verifies the ID token's signature against the provider's JWKS with an
// allow-list of asymmetric algorithms (never `none`, never HMAC), and its iss, aud, azp, exp,
// iat, nonce and sub. Claims fetched from userinfo count only when userinfo's sub is the ID
// token's. The account is chosen by (issuer, sub) alone; the username claim and email only
// decorate the session.
import {
	CodeChallengeMethod,
	generateCodeVerifier,
	generateState,
	OAuth2Client,
	OAuth2Tokens
} from 'arctic';
import {
	createRemoteJWKSet,
	customFetch,
	errors as joseErrors,
	jwtVerify,
	type JWTPayload
} from 'jose';
import { cappedFetch, fetchJson, HttpError, parseJson } from '../../http';
import { log } from '../../log';
import type { SsoConfig } from '../../sso';

export const CALLBACK_PATH = '/api/auth/sso/oidc/callback';

export type Discovery = {
	issuer: string;
	authorization_endpoint: string;
	token_endpoint: string;
	jwks_uri: string;
	userinfo_endpoint?: string;
	id_token_signing_alg_values_supported?: string[];
	authorization_response_iss_parameter_supported?: boolean;
	code_challenge_methods_supported?: string[];
};

/** The Test Discovery outcome, in the words admins see. */
export class DiscoveryError extends Error {}

const ALLOWED_ALGORITHMS = [
	'RS256',
	'RS384',
	'RS512',
	'PS256',
	'PS384',
	'PS512',
	'ES256',
	'ES384',
	'ES512',
	'EdDSA'
];
const DISCOVERY_TTL_MS = 60 * 60 * 1000;

export function discoveryUrl(issuer: string) {
	return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
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

/** Fetches and checks a discovery document, bypassing every cache. */
export async function fetchDiscovery(issuer: string): Promise<Discovery> {
	let doc: unknown;
	try {
		doc = await fetchJson(discoveryUrl(issuer), { headers: { accept: 'application/json' } });
	} catch (error) {
		if (error instanceof HttpError && error.status) {
			if (error.message.startsWith('HTTP '))
				throw new DiscoveryError(`OIDC discovery failed (${error.status})`);
			throw new DiscoveryError('OIDC discovery response missing required endpoints');
		}
		throw new DiscoveryError(`OIDC discovery failed (${(error as Error).message})`);
	}
	const d = doc as Partial<Discovery> | null;
	if (
		!d ||
		typeof d !== 'object' ||
		!isHttpUrl(d.authorization_endpoint) ||
		!isHttpUrl(d.token_endpoint) ||
		!isHttpUrl(d.jwks_uri)
	) {
		throw new DiscoveryError('OIDC discovery response missing required endpoints');
	}
	if (typeof d.issuer !== 'string' || d.issuer.replace(/\/+$/, '') !== issuer.replace(/\/+$/, '')) {
		throw new DiscoveryError('OIDC issuer mismatch');
	}
	if (d.userinfo_endpoint !== undefined && !isHttpUrl(d.userinfo_endpoint))
		delete d.userinfo_endpoint;
	return d as Discovery;
}

// Per instance; keyed by issuer and configuration version, so a save or revert on any instance
// (which moves "ssoConfigVersion" on) makes every instance fetch afresh.
const discoveryCache = new Map<string, { doc: Discovery; at: number }>();
const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

export async function getDiscovery(issuer: string, configVersion: number): Promise<Discovery> {
	const key = `${configVersion}|${issuer}`;
	const hit = discoveryCache.get(key);
	if (hit && Date.now() - hit.at < DISCOVERY_TTL_MS) return hit.doc;
	const doc = await fetchDiscovery(issuer);
	for (const k of discoveryCache.keys())
		if (!k.startsWith(`${configVersion}|`)) discoveryCache.delete(k);
	discoveryCache.set(key, { doc, at: Date.now() });
	return doc;
}

function jwks(doc: Discovery) {
	// jose caches the key set and refetches it (at most every 30 s) when a token names an unknown kid.
	let set = jwksCache.get(doc.jwks_uri);
	if (!set) {
		set = createRemoteJWKSet(new URL(doc.jwks_uri), {
			timeoutDuration: 10_000,
			cooldownDuration: 30_000,
			// capped like every other call to the provider
			[customFetch]: (url, init) => cappedFetch(url, init)
		});
		jwksCache.set(doc.jwks_uri, set);
	}
	return set;
}

export function redirectUri(origin: string) {
	return origin + CALLBACK_PATH;
}

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 wants inside the Basic header. */
export function formEncode(value: string) {
	return new URLSearchParams({ v: value }).toString().slice(2);
}

export function startAuthorization(config: SsoConfig, doc: Discovery, origin: string) {
	const state = generateState();
	const nonce = generateState();
	const codeVerifier = generateCodeVerifier();
	const client = new OAuth2Client(config.oidcClientId!, null, redirectUri(origin));
	const scopes = config.oidcScopes.split(/\s+/).filter(Boolean);
	const url = client.createAuthorizationURLWithPKCE(
		doc.authorization_endpoint,
		state,
		CodeChallengeMethod.S256,
		codeVerifier,
		scopes
	);
	url.searchParams.set('nonce', nonce); // arctic has no nonce option
	return { url, state, nonce, codeVerifier };
}

export type VerifiedIdentity = {
	subject: string;
	issuer: string;
	displayName: string | null;
	email: string | null;
};

/** A failure the login page shows as one of its banner codes; `reason` goes to the log only. */
export class OidcFailure extends Error {
	constructor(
		readonly code: 'state_mismatch' | 'token_exchange_failed',
		readonly reason: string
	) {
		super(reason);
	}
}

function claimString(claims: Record<string, unknown>, name: string): string | null {
	const value = claims[name];
	return typeof value === 'string' && value.trim() ? value.trim().slice(0, 200) : null;
}

/** Checks the callback's parameters, exchanges the code and verifies what comes back. */
export async function finishAuthorization(
	config: SsoConfig,
	doc: Discovery,
	origin: string,
	params: URLSearchParams,
	transaction: { nonce: string; codeVerifier: string }
): Promise<VerifiedIdentity> {
	const iss = params.get('iss');
	if (doc.authorization_response_iss_parameter_supported || iss !== null) {
		if (iss !== doc.issuer)
			throw new OidcFailure(
				'state_mismatch',
				`iss parameter "${iss}" is not the issuer "${doc.issuer}"`
			);
	}
	const providerError = params.get('error');
	if (providerError) {
		throw new OidcFailure(
			'token_exchange_failed',
			`the provider answered error=${providerError.slice(0, 100)}`
		);
	}
	const code = params.get('code');
	if (!code) throw new OidcFailure('token_exchange_failed', 'the callback carried no code');

	const clientId = config.oidcClientId!;
	let idToken: string;
	let accessToken: string | null = null;
	try {
		const tokens = await exchangeCode(doc.token_endpoint, {
			code,
			codeVerifier: transaction.codeVerifier,
			redirectUri: redirectUri(origin),
			clientId,
			clientSecret: config.clientSecret
		});
		idToken = tokens.idToken();
		accessToken = safeAccessToken(tokens);
	} catch (error) {
		throw new OidcFailure(
			'token_exchange_failed',
			`code exchange failed (${(error as Error).message})`
		);
	}

	const algorithms = doc.id_token_signing_alg_values_supported?.filter((a) =>
		ALLOWED_ALGORITHMS.includes(a)
	) ?? ['RS256'];
	let payload: JWTPayload;
	try {
		({ payload } = await jwtVerify(idToken, jwks(doc), {
			issuer: doc.issuer,
			audience: clientId,
			algorithms: algorithms.length ? algorithms : ['RS256'],
			requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
			clockTolerance: 60
		}));
	} catch (error) {
		const detail =
			error instanceof joseErrors.JOSEError
				? `${error.code}: ${error.message}`
				: (error as Error).message;
		throw new OidcFailure('token_exchange_failed', `ID token rejected (${detail})`);
	}
	const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
	if ((audiences.length > 1 || payload.azp !== undefined) && payload.azp !== clientId) {
		throw new OidcFailure(
			'token_exchange_failed',
			`ID token azp "${String(payload.azp)}" is not this client`
		);
	}
	if (typeof payload.nonce !== 'string' || payload.nonce !== transaction.nonce) {
		throw new OidcFailure('token_exchange_failed', 'ID token nonce does not match the one sent');
	}
	const subject = typeof payload.sub === 'string' ? payload.sub : '';
	if (!subject || subject.length > 255)
		throw new OidcFailure('token_exchange_failed', 'ID token has no usable sub');

	let claims: Record<string, unknown> = payload;
	if (
		claimString(payload, config.oidcUsernameClaim) === null &&
		doc.userinfo_endpoint &&
		accessToken
	) {
		let info: unknown;
		try {
			info = await fetchJson(doc.userinfo_endpoint, {
				headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }
			});
		} catch (error) {
			throw new OidcFailure(
				'token_exchange_failed',
				`userinfo failed (${(error as Error).message})`
			);
		}
		const userinfo = (info ?? {}) as Record<string, unknown>;
		if (userinfo.sub !== subject) {
			throw new OidcFailure('token_exchange_failed', 'userinfo sub differs from the ID token sub');
		}
		claims = { ...userinfo, ...payload };
	}
	return {
		subject,
		issuer: doc.issuer,
		displayName: claimString(claims, config.oidcUsernameClaim) ?? claimString(claims, 'name'),
		email: claimString(claims, 'email')
	};
}

function safeAccessToken(tokens: OAuth2Tokens): string | null {
	try {
		return tokens.accessToken();
	} catch {
		return null;
	}
}

/**
 * The token request (RFC 6749 §4.1.3 with PKCE). Sent here rather than by arctic's
 * validateAuthorizationCode because that one reads any amount of body, follows redirects and
 * cannot be cancelled; arctic's OAuth2Tokens still reads the answer. The client secret goes in
 * HTTP Basic, both parts form-encoded first (RFC 6749 §2.3.1).
 */
async function exchangeCode(
	tokenEndpoint: string,
	p: {
		code: string;
		codeVerifier: string;
		redirectUri: string;
		clientId: string;
		clientSecret: string | null;
	}
): Promise<OAuth2Tokens> {
	const body = new URLSearchParams({
		grant_type: 'authorization_code',
		code: p.code,
		redirect_uri: p.redirectUri,
		code_verifier: p.codeVerifier
	});
	const headers: Record<string, string> = {
		'content-type': 'application/x-www-form-urlencoded',
		accept: 'application/json',
		'user-agent': 'Librariarr'
	};
	if (p.clientSecret) {
		const credentials = `${formEncode(p.clientId)}:${formEncode(p.clientSecret)}`;
		headers.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
	} else {
		body.set('client_id', p.clientId);
	}
	const res = await cappedFetch(tokenEndpoint, { method: 'POST', headers, body });
	const text = await res.text();
	if (res.status !== 200) {
		let detail = `HTTP ${res.status}`;
		try {
			const data = parseJson(text, res.status) as { error?: unknown };
			if (typeof data?.error === 'string') detail += `: ${data.error.slice(0, 100)}`;
		} catch {
			// not JSON: the status says enough
		}
		throw new HttpError(detail, res.status);
	}
	const data = parseJson(text, res.status);
	if (!data || typeof data !== 'object')
		throw new HttpError('token response is not a JSON object', res.status);
	return new OAuth2Tokens(data);
}

export function logRejected(subject: string) {
	// The subject is pasted from this line into the link form, so it is printed as it is, except
	// that control characters (a forged line break) are escaped.
	const printable = subject.replace(
		/[\u0000-\u001f\u007f]/g,
		(c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
	);
	log.warn(`OIDC login rejected: no linked account for sub=${printable}`);
}
