// OpenID Connect sign-in: Authorization Code with PKCE (S256), state and nonce.
//
// Model: nothing the browser or the provider sends is trusted until checked. The callback takes
// the login transaction by its state only when this browser started it (single use, ten
// minutes); checks the RFC 9207 `iss` parameter when the provider advertises it; exchanges the
// code, authenticating the client the way the provider lists and adapting between equally strong
// variants when the provider refuses the client (oidc-client-auth.ts); verifies the ID token's signature against the provider's JWKS
// with an allow-list of asymmetric algorithms (never `none`, never HMAC), and its iss, aud, azp,
// exp, iat, nonce and sub. For a multi-tenant issuer template (Entra `{tenantid}`) the token's
// iss must be the template with the token's own `tid` put in, and that real iss is the identity's
// issuer, so a link pins the tenant. The account is chosen by (issuer, sub) alone; the username
// claim and email only decorate the session, so userinfo is optional: when it fails the sign-in
// goes on with the subject as the name, but a userinfo for another sub (or a signed one that does
// not verify) ends it. Userinfo is also read when the ID token lacks the claim "Required claim"
// names (sso/claim-rule.ts); a userinfo that fails then leaves that claim missing, which the rule
// refuses. What a sign-in saw (the ID token's algorithm, where the username claim came
// from) is noted for Test Discovery when it is new (sso/observed.ts).
import { clockWordsSince } from './provider-clock';
import {
	CodeChallengeMethod,
	generateCodeVerifier,
	generateState,
	OAuth2Client,
	OAuth2Tokens
} from 'arctic';
import {
	decodeProtectedHeader,
	errors as joseErrors,
	jwtVerify,
	type JWTPayload,
	type JWTVerifyGetKey
} from 'jose';
import { cappedFetch, parseJson } from '../../http';
import { log } from '../../log';
import { rememberClientAuth, type ClientAuthSetting, type SsoConfig } from '../../sso/config';
import {
	negotiateToken,
	sanitizeProviderText,
	TokenRequestFailed,
	variantsToTry
} from './oidc-client-auth';
import { claimString, displayNameFrom } from './oidc-claims';
import { algName, noteProviderSent, type UsernameClaimFrom } from '../../sso/observed';
import { getJwks, type Discovery } from './oidc-discovery';
import { issuerForTenant, isIssuerTemplate } from '../../rule/issuer';
import { ALLOWED_ALGORITHMS } from '../../sso/algorithms';
import { ruleInForce } from '../../sso/claim-rule';
import { readClaim } from '../../sso/required-claim';

export {
	clearProviderCache,
	DiscoveryError,
	discoveryUrl,
	fetchDiscovery,
	getDiscovery,
	getJwks,
	type Discovery
} from './oidc-discovery';

export const CALLBACK_PATH = '/api/auth/sso/oidc/callback';

export { ALLOWED_ALGORITHMS };

/** What the provider lists among ALLOWED_ALGORITHMS; RS256 when it lists none (OIDC Discovery §3). */
export function signingAlgorithms(listed: string[] | undefined) {
	const usable = listed?.filter((a) => ALLOWED_ALGORITHMS.includes(a)) ?? [];
	return usable.length ? usable : ['RS256'];
}

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/**
 * How the token request proves who the client is. A forced setting wins. Otherwise: nothing but
 * the client_id without a secret (a public client); with one, HTTP Basic when the provider lists
 * it or lists nothing (Basic is the spec's default), else client_secret_post when listed.
 */
export function chooseClientAuth(
	setting: ClientAuthSetting,
	hasSecret: boolean,
	supported: string[] | undefined
): ClientAuthMethod {
	if (!hasSecret) return 'none';
	if (setting !== 'auto') return setting;
	if (!supported || supported.includes('client_secret_basic')) return 'client_secret_basic';
	if (supported.includes('client_secret_post')) return 'client_secret_post';
	return 'client_secret_basic';
}

export function redirectUri(origin: string) {
	return origin + CALLBACK_PATH;
}

export { formEncode } from './oidc-client-auth';

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
	/** The ID token as received, for the id_token_hint of RP-initiated logout. */
	idToken: string;
	/** The provider's session id (`sid`), which back-channel logout tokens name. */
	sid: string | null;
	/** The ID token's claims, over userinfo's when it was read ("Required claim" reads them). */
	claims: Record<string, unknown>;
	/** The ID token's own claims (amr, acr, auth_time: what "Require two-factor" reads). */
	idTokenClaims: Record<string, unknown>;
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

/** Checks the callback's parameters, exchanges the code and verifies what comes back. */
export async function finishAuthorization(
	config: SsoConfig,
	doc: Discovery,
	origin: string,
	params: URLSearchParams,
	transaction: { nonce: string; codeVerifier: string }
): Promise<VerifiedIdentity> {
	// A failure after the token request says so when the provider's Date showed our clock off.
	const started = Date.now();
	const withClock = (reason: string) => {
		const clock = clockWordsSince(started);
		return clock ? `${reason}; ${clock}` : reason;
	};
	const iss = params.get('iss');
	if (doc.authorization_response_iss_parameter_supported || iss !== null) {
		// A template issuer cannot be compared before the token names its tenant; the ID token's
		// iss is checked against it below, and the parameter must then be that same issuer.
		const fits = isIssuerTemplate(doc.issuer) ? iss !== null : iss === doc.issuer;
		if (!fits)
			throw new OidcFailure(
				'state_mismatch',
				`iss parameter "${iss}" is not the issuer "${doc.issuer}"`
			);
	}
	const providerError = params.get('error');
	if (providerError !== null) {
		throw new OidcFailure(
			'token_exchange_failed',
			describeAuthorizationError(providerError, params.get('error_description'))
		);
	}
	const code = params.get('code');
	if (!code) throw new OidcFailure('token_exchange_failed', 'the callback carried no code');

	const clientId = config.oidcClientId!;
	let idToken: string;
	let accessToken: string | null = null;
	const credentials = { clientId, clientSecret: config.clientSecret };
	const variants = variantsToTry(
		config.oidcClientAuthMethod,
		credentials,
		doc.token_endpoint_auth_methods_supported,
		config.clientAuthLearnt
	);
	let tokens: OAuth2Tokens;
	let variant;
	try {
		const grant = {
			code,
			codeVerifier: transaction.codeVerifier,
			redirectUri: redirectUri(origin)
		};
		let data;
		({ data, variant } = await negotiateToken(doc.token_endpoint, grant, credentials, variants));
		tokens = new OAuth2Tokens(data);
		idToken = tokens.idToken();
		accessToken = safeAccessToken(tokens);
	} catch (error) {
		// A refusal says it all; an unreachable endpoint or an answer without an ID token is named.
		throw new OidcFailure(
			'token_exchange_failed',
			withClock(
				error instanceof TokenRequestFailed
					? error.message
					: `Token exchange at ${doc.token_endpoint} failed: ${(error as Error).message}`
			)
		);
	}
	// The provider accepted the client another way than the one tried first: try that way first
	// from now on.
	if (variant !== variants[0] && variant !== 'none') {
		log.info('OIDC client authentication adapted to the provider', { variant });
		await rememberClientAuth(
			{ issuer: config.oidcIssuer!, clientId, ssoConfigVersion: config.ssoConfigVersion },
			variant
		);
	}

	// What this sign-in saw of the provider, for Test Discovery (sso/observed.ts).
	const saved = {
		issuer: config.oidcIssuer!,
		clientId,
		ssoConfigVersion: config.ssoConfigVersion,
		observed: config.observed
	};
	let keys: JWTVerifyGetKey;
	let payload: JWTPayload;
	let alg: string | null;
	try {
		keys = await getJwks(config.oidcIssuer!, config.ssoConfigVersion);
		let protectedHeader;
		({ payload, protectedHeader } = await jwtVerify(idToken, keys, {
			audience: clientId,
			algorithms: signingAlgorithms(doc.id_token_signing_alg_values_supported),
			requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
			clockTolerance: 60
		}));
		alg = algName(protectedHeader.alg);
	} catch (error) {
		// A token signed the way the provider's client is set (HS256 with the secret, none): Test
		// Discovery then names the setting to change. The provider's token endpoint sent it.
		const refused = error instanceof joseErrors.JOSEAlgNotAllowed ? headerAlg(idToken) : null;
		if (refused) await noteProviderSent(saved, { idTokenAlg: { alg: refused, accepted: false } });
		throw new OidcFailure(
			'token_exchange_failed',
			withClock(`ID token rejected (${joseDetail(error)})`)
		);
	}
	const issuer = issuerForTenant(doc.issuer, payload.tid);
	if (issuer === null || payload.iss !== issuer) {
		throw new OidcFailure(
			'token_exchange_failed',
			`ID token iss "${String(payload.iss).slice(0, 200)}" is not the issuer "${issuer ?? doc.issuer}"`
		);
	}
	if (iss !== null && isIssuerTemplate(doc.issuer) && iss !== issuer) {
		throw new OidcFailure('state_mismatch', `iss parameter "${iss}" is not the issuer "${issuer}"`);
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
	let claimFrom: UsernameClaimFrom | null = 'id_token';
	// Userinfo is read when the ID token lacks the username claim or the required claim (many
	// providers put groups and profile claims in userinfo only).
	const rule = ruleInForce(config);
	const ruleClaimMissing = rule !== null && readClaim(payload, rule.path).kind === 'missing';
	const usernameMissing = claimString(payload, config.oidcUsernameClaim) === null;
	if (usernameMissing || ruleClaimMissing) {
		const userinfo = await readUserinfo(doc, keys, accessToken, { issuer, subject, clientId });
		if (userinfo.claims) claims = { ...userinfo.claims, ...payload };
		// claims_supported is often partial: what came is what counts. A userinfo that failed
		// says nothing either way.
		claimFrom = !usernameMissing
			? 'id_token'
			: claimString(claims, config.oidcUsernameClaim) !== null
				? 'userinfo'
				: userinfo.conclusive
					? 'missing'
					: null;
	}
	await noteProviderSent(saved, {
		...(alg && { idTokenAlg: { alg, accepted: true } }),
		...(claimFrom && { usernameClaim: { claim: config.oidcUsernameClaim, from: claimFrom } })
	});
	return {
		subject,
		issuer,
		displayName: displayNameFrom(claims, config.oidcUsernameClaim, subject),
		email: claimString(claims, 'email'),
		idToken,
		sid:
			typeof payload.sid === 'string' && payload.sid && payload.sid.length <= 255
				? payload.sid
				: null,
		claims,
		idTokenClaims: payload
	};
}

/** One hint per known `error` of an authorization response (RFC 6749 §4.1.2.1). */
const AUTHORIZATION_HINTS: Record<string, string> = {
	access_denied:
		'You declined at the provider, or it does not let this account use this client: check which users or groups the client is assigned to at the provider.',
	invalid_scope:
		'The provider refused the scopes: check Scopes in step 1 against what the client may ask for at the provider.',
	unauthorized_client:
		'The provider does not let this client use the authorization code flow: allow it in the client’s settings at the provider.',
	unsupported_response_type:
		'The provider does not let this client use the authorization code flow: allow it in the client’s settings at the provider.',
	invalid_request:
		'The provider found the authorization request malformed: is the client set up for the authorization code flow with PKCE (S256)?',
	server_error:
		'The provider had an error of its own: is it running and healthy? Try again in a moment.',
	temporarily_unavailable: 'The provider is busy or down for maintenance: try again in a moment.'
};

/**
 * What an error sent back instead of a code says: the step, the provider's `error` and
 * `error_description` (they come through the browser: sanitised and capped), and a hint.
 */
export function describeAuthorizationError(error: string, description: string | null) {
	const code = sanitizeProviderText(error, 100) ?? '(empty)';
	const words = sanitizeProviderText(description);
	const hint = Object.hasOwn(AUTHORIZATION_HINTS, code) ? ` ${AUTHORIZATION_HINTS[code]}` : '';
	return `The provider answered the authorization request with error=${code}${words ? ` (“${words}”)` : ''}.${hint}`;
}

/** The `alg` a JWT's header names, or null when it has none readable. */
function headerAlg(jwt: string) {
	try {
		return algName(decodeProtectedHeader(jwt).alg);
	} catch {
		return null;
	}
}

function joseDetail(error: unknown) {
	if (error instanceof joseErrors.JOSEAlgNotAllowed) {
		// The provider signed with an algorithm it lists but Librariarr refuses (HS256 with the
		// client secret, or none): the fix is one setting of the client at the provider.
		return `${error.code}: ${error.message}; set the client's ID token signing algorithm at the provider (often id_token_signed_response_alg) to RS256, PS256, ES256 or EdDSA: HMAC (HS256/384/512) and none are refused`;
	}
	return error instanceof joseErrors.JOSEError
		? `${error.code}: ${error.message}`
		: (error as Error).message;
}

/** Userinfo answers are small and optional: a provider this slow is skipped, not waited for. */
const USERINFO_TIMEOUT_MS = 5_000;

/**
 * Claims from the userinfo endpoint, plain JSON or a signed JWT (`application/jwt`). No claims,
 * with a warning, when there is no endpoint, no access token, or the endpoint fails: the caller
 * goes on without them. `conclusive` is false when it failed (the claims it would have sent are
 * unknown). Throws when the answer speaks of another subject or a signed answer does not verify,
 * because then the provider (or someone in between) is lying.
 */
async function readUserinfo(
	doc: Discovery,
	keys: JWTVerifyGetKey,
	accessToken: string | null,
	expected: { issuer: string; subject: string; clientId: string }
): Promise<{ claims: Record<string, unknown> | null; conclusive: boolean }> {
	const failed = { claims: null, conclusive: false };
	if (!doc.userinfo_endpoint || !accessToken) {
		log.warn(
			'OIDC userinfo skipped: the provider has no userinfo endpoint or sent no access token'
		);
		return { claims: null, conclusive: true };
	}
	let res: Response;
	try {
		res = await cappedFetch(
			doc.userinfo_endpoint,
			{
				headers: {
					authorization: `Bearer ${accessToken}`,
					accept: 'application/json, application/jwt'
				}
			},
			{ timeoutMs: USERINFO_TIMEOUT_MS }
		);
	} catch (error) {
		log.warn('OIDC userinfo failed; signing in without its claims', {
			reason: (error as Error).message
		});
		return failed;
	}
	if (!res.ok) {
		log.warn('OIDC userinfo failed; signing in without its claims', { status: res.status });
		return failed;
	}
	const text = await res.text();
	const type = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
	let info: Record<string, unknown>;
	if (type === 'application/jwt') {
		try {
			({ payload: info } = await jwtVerify(text.trim(), keys, {
				issuer: expected.issuer,
				audience: expected.clientId,
				algorithms: signingAlgorithms(doc.userinfo_signing_alg_values_supported),
				requiredClaims: ['iss', 'aud', 'sub'],
				clockTolerance: 60
			}));
		} catch (error) {
			throw new OidcFailure(
				'token_exchange_failed',
				`signed userinfo rejected (${joseDetail(error)})`
			);
		}
	} else {
		let parsed: unknown;
		try {
			parsed = parseJson(text, res.status);
		} catch {
			log.warn('OIDC userinfo answered something that is not JSON; signing in without its claims');
			return failed;
		}
		if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
			log.warn('OIDC userinfo answered something that is not a JSON object; signing in without it');
			return failed;
		}
		info = parsed as Record<string, unknown>;
	}
	if (info.sub !== expected.subject) {
		throw new OidcFailure('token_exchange_failed', 'userinfo sub differs from the ID token sub');
	}
	return { claims: info, conclusive: true };
}

function safeAccessToken(tokens: OAuth2Tokens): string | null {
	try {
		return tokens.accessToken();
	} catch {
		return null;
	}
}
