// An OpenID Provider whose every answer the test decides: discovery, JWKS, token and userinfo are
// plain node:http handlers on loopback that return whatever the current test put in place, so a
// test can hand the app a forged, expired, mis-addressed or unsigned ID token and watch it refuse.
// The authorization endpoint is never visited: the test reads the app's redirect to it (state,
// nonce, PKCE challenge), issues a code for it, and calls the app's callback itself.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
	exportJWK,
	generateKeyPair,
	SignJWT,
	type CryptoKey,
	type JWK,
	type JWTPayload
} from 'jose';
import { freePort } from './pg.js';

export type SigningKey = { kid: string; alg: string; privateKey: CryptoKey; publicJwk: JWK };

/** A signing key pair; its public JWK names `kid` (none when `kid` is empty) and `alg`. */
export async function makeKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
	const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
	const publicJwk: JWK = { ...(await exportJWK(publicKey)), alg, use: 'sig' };
	if (kid) publicJwk.kid = kid;
	return { kid, alg, privateKey, publicJwk };
}

/** What the userinfo endpoint answers when a test wants more than a JSON body. */
export type UserinfoAnswer = {
	status?: number;
	contentType?: string;
	body: string;
	/** Milliseconds to wait before answering. */
	delayMs?: number;
};

/** What the app put in the authorization URL it sent the browser to. */
export type AuthorizationRequest = {
	url: URL;
	state: string;
	nonce: string | null;
	codeChallenge: string | null;
	codeChallengeMethod: string | null;
	redirectUri: string | null;
	clientId: string | null;
	scope: string | null;
	/** The code this provider will hand back for it. */
	code: string;
};

export type TokenRequest = {
	authorization: string | null;
	body: URLSearchParams;
	/** The authorization request the code belongs to, if the code is one we issued. */
	authorizationRequest: AuthorizationRequest | null;
	/** Whether SHA-256(code_verifier) is the code_challenge that was sent. */
	pkceVerified: boolean;
};

export type IdTokenContext = { nonce: string | null; request: AuthorizationRequest | null };

const b64url = (value: unknown) =>
	Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT with whatever header and signature you like (for `alg: none` and friends). */
export function craftJwt(header: Record<string, unknown>, payload: unknown, signature = '') {
	return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

export async function startHostileIdp({ clientId }: { clientId: string }) {
	const port = await freePort();
	const issuer = `http://127.0.0.1:${port}`;
	const primary = await makeKey('key-1');

	const state = {
		/** Fields merged over the discovery document (undefined values remove a field). */
		discovery: {} as Record<string, unknown>,
		/** Path of jwks_uri in the discovery document. */
		jwksPath: '/jwks',
		/** The keys each JWKS path publishes. */
		jwks: new Map<string, JWK[]>(),
		jwksHits: new Map<string, number>(),
		authorizations: [] as AuthorizationRequest[],
		tokenRequests: [] as TokenRequest[],
		userinfoRequests: [] as { authorization: string | null }[],
		idToken: null as ((ctx: IdTokenContext) => Promise<string> | string) | null,
		userinfo: null as (() => unknown) | null,
		/** Takes precedence over `userinfo`: a raw answer (status, content type, delay). */
		userinfoAnswer: null as (() => UserinfoAnswer | Promise<UserinfoAnswer>) | null,
		/** Milliseconds the discovery document takes to arrive. */
		discoveryDelayMs: 0,
		discoveryHits: 0,
		/** TCP connections the server accepted since the last reset. */
		connections: 0,
		/** Requests of any kind since the last reset. */
		requests: 0,
		/** Paths answered with a redirect: path -> [status, Location]. */
		redirects: new Map<string, [number, string]>(),
		/** Extra bytes of junk in the token response (a provider trying to fill the app's memory). */
		tokenPadding: 0,
		/** How many token requests to refuse with 401 invalid_client before judging the code. */
		refuseClient: 0,
		/** The same for the JWKS. */
		jwksPadding: 0,
		/** Seconds the provider's clock (its Date header) is ahead of the real one; 0: Node's own. */
		clockOffsetS: 0,
		accessToken: 'at-' + randomBytes(8).toString('hex')
	};

	function reset() {
		state.discovery = {};
		state.jwksPath = '/jwks';
		state.jwks = new Map([['/jwks', [primary.publicJwk]]]);
		state.jwksHits = new Map();
		state.authorizations = [];
		state.tokenRequests = [];
		state.userinfoRequests = [];
		state.idToken = null;
		state.userinfo = null;
		state.userinfoAnswer = null;
		state.discoveryDelayMs = 0;
		state.discoveryHits = 0;
		state.connections = 0;
		state.requests = 0;
		state.redirects = new Map();
		state.tokenPadding = 0;
		state.refuseClient = 0;
		state.jwksPadding = 0;
		state.clockOffsetS = 0;
	}
	reset();

	function discoveryDocument() {
		const doc: Record<string, unknown> = {
			issuer,
			authorization_endpoint: `${issuer}/authorize`,
			token_endpoint: `${issuer}/token`,
			jwks_uri: `${issuer}${state.jwksPath}`,
			userinfo_endpoint: `${issuer}/userinfo`,
			response_types_supported: ['code'],
			subject_types_supported: ['public'],
			id_token_signing_alg_values_supported: ['RS256'],
			code_challenge_methods_supported: ['S256'],
			token_endpoint_auth_methods_supported: ['client_secret_basic']
		};
		for (const [k, v] of Object.entries(state.discovery)) {
			if (v === undefined) delete doc[k];
			else doc[k] = v;
		}
		return doc;
	}

	function json(res: http.ServerResponse, status: number, body: unknown) {
		const headers: Record<string, string> = {
			'content-type': 'application/json',
			'cache-control': 'no-store'
		};
		if (state.clockOffsetS)
			headers.date = new Date(Date.now() + state.clockOffsetS * 1000).toUTCString();
		res.writeHead(status, headers);
		res.end(JSON.stringify(body));
	}

	async function readBody(req: http.IncomingMessage) {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		return Buffer.concat(chunks).toString('utf8');
	}

	const server = http.createServer(async (req, res) => {
		try {
			state.requests++;
			const url = new URL(req.url ?? '/', issuer);
			const redirect = state.redirects.get(url.pathname);
			if (redirect) {
				res.writeHead(redirect[0], { location: redirect[1] });
				return res.end();
			}
			// Under any path, so that an issuer with a path (Entra's …/common/v2.0) finds it too.
			if (url.pathname.endsWith('/.well-known/openid-configuration')) {
				state.discoveryHits++;
				if (state.discoveryDelayMs) await new Promise((r) => setTimeout(r, state.discoveryDelayMs));
				return json(res, 200, discoveryDocument());
			}
			if (state.jwks.has(url.pathname)) {
				state.jwksHits.set(url.pathname, (state.jwksHits.get(url.pathname) ?? 0) + 1);
				return json(res, 200, {
					keys: state.jwks.get(url.pathname),
					...(state.jwksPadding ? { padding: 'x'.repeat(state.jwksPadding) } : {})
				});
			}
			if (url.pathname === '/token' && req.method === 'POST') {
				const body = new URLSearchParams(await readBody(req));
				const request = state.authorizations.find((a) => a.code === body.get('code')) ?? null;
				const verifier = body.get('code_verifier') ?? '';
				const pkceVerified =
					!!request?.codeChallenge &&
					request.codeChallengeMethod === 'S256' &&
					createHash('sha256').update(verifier).digest('base64url') === request.codeChallenge;
				state.tokenRequests.push({
					authorization: req.headers.authorization ?? null,
					body,
					authorizationRequest: request,
					pkceVerified
				});
				// Providers judge the client before the code (which stays good).
				if (state.refuseClient > 0) {
					state.refuseClient--;
					return json(res, 401, {
						error: 'invalid_client',
						error_description: 'Wrong credentials\u0007\n\u202e' + 'x'.repeat(5000)
					});
				}
				// A real provider refuses a code it did not issue, a wrong verifier or redirect_uri.
				if (
					!request ||
					!pkceVerified ||
					body.get('grant_type') !== 'authorization_code' ||
					body.get('redirect_uri') !== request.redirectUri
				) {
					return json(res, 400, { error: 'invalid_grant' });
				}
				if (!state.idToken) return json(res, 500, { error: 'server_error' });
				const idToken = await state.idToken({ nonce: request.nonce, request });
				return json(res, 200, {
					access_token: state.accessToken,
					token_type: 'Bearer',
					expires_in: 300,
					id_token: idToken,
					...(state.tokenPadding ? { padding: 'x'.repeat(state.tokenPadding) } : {})
				});
			}
			if (url.pathname === '/userinfo') {
				state.userinfoRequests.push({ authorization: req.headers.authorization ?? null });
				if (state.userinfoAnswer) {
					const answer = await state.userinfoAnswer();
					if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
					res.writeHead(answer.status ?? 200, {
						'content-type': answer.contentType ?? 'application/json'
					});
					return res.end(answer.body);
				}
				if (!state.userinfo) return json(res, 404, { error: 'not_found' });
				return json(res, 200, state.userinfo());
			}
			json(res, 404, { error: 'not_found' });
		} catch (error) {
			json(res, 500, { error: 'server_error', error_description: String(error) });
		}
	});
	server.on('connection', () => state.connections++);
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

	return {
		issuer,
		port,
		clientId,
		primary,
		state,
		reset,
		/** Records the authorization request behind the app's redirect and issues a code for it. */
		authorize(location: string): AuthorizationRequest {
			const url = new URL(location);
			const p = url.searchParams;
			const request: AuthorizationRequest = {
				url,
				state: p.get('state') ?? '',
				nonce: p.get('nonce'),
				codeChallenge: p.get('code_challenge'),
				codeChallengeMethod: p.get('code_challenge_method'),
				redirectUri: p.get('redirect_uri'),
				clientId: p.get('client_id'),
				scope: p.get('scope'),
				code: 'code-' + randomBytes(12).toString('hex')
			};
			state.authorizations.push(request);
			return request;
		},
		/** The claims a well-behaved provider would put in the ID token. */
		claims(nonce: string | null, extra: JWTPayload = {}): JWTPayload {
			const now = Math.floor(Date.now() / 1000);
			return {
				iss: issuer,
				aud: clientId,
				sub: 'alice',
				iat: now,
				exp: now + 300,
				...(nonce === null ? {} : { nonce }),
				preferred_username: 'alice',
				email: 'alice@example.test',
				...extra
			};
		},
		/**
		 * Signs claims with `key` (the published key unless told otherwise), in the key's algorithm;
		 * an empty `kid` leaves it out of the header.
		 */
		sign(claims: JWTPayload, key: SigningKey = primary, kid: string = key.kid, typ?: string) {
			return new SignJWT(claims)
				.setProtectedHeader({ alg: key.alg, ...(kid ? { kid } : {}), ...(typ ? { typ } : {}) })
				.sign(key.privateKey);
		},
		jwksHits(path = '/jwks') {
			return state.jwksHits.get(path) ?? 0;
		},
		stop: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}

export type HostileIdp = Awaited<ReturnType<typeof startHostileIdp>>;

/** Returns a copy of `claims` without the named ones. */
export function without(claims: JWTPayload, ...names: string[]): JWTPayload {
	const copy = { ...claims };
	for (const name of names) delete copy[name];
	return copy;
}
