// A real OpenID Provider for the tests: `oidc-provider` on loopback, with its built-in login and
// consent pages (any password is accepted; the login name becomes the subject).
// Clients: a confidential one (client_secret_basic, with a secret that needs form-encoding) and a
// public PKCE one. PKCE is required for both.
import Provider from 'oidc-provider';
import { freePort } from './pg.js';

// Characters that must be form-encoded inside HTTP Basic (RFC 6749 §2.3.1): a client that
// forgets to encode them is refused by oidc-provider with invalid_client / invalid_request.
export const CONFIDENTIAL_SECRET = 'conf-secret:with%special+chars&more/0123456789';

// A secret as a password manager makes it: form-encoding changes its +, /, = and ~.
export const RAW_BASIC_SECRET = 'a+b/c=d~e-1234567890';

/**
 * Clients whose token requests are judged the way some real providers do, by a small layer in
 * front of oidc-provider's token endpoint (which itself decodes Basic as RFC 6749 §2.3.1 asks,
 * and takes Basic or the body from any client): `librariarr-raw-basic` (HTTP Basic only,
 * compared without form-decoding, like Glewlwyd: the RFC-encoded secret, and the secret in the
 * body, are refused with 401 invalid_client) and `librariarr-post-only` (the secret
 * only in the form body: any HTTP Basic is refused with 403 unauthorized_client). Both have
 * RAW_BASIC_SECRET. `tokenRequests` counts what reached the token endpoint, per client.
 */
export const QUIRK_CLIENTS = {
	rawBasic: 'librariarr-raw-basic',
	postOnly: 'librariarr-post-only'
};

/** Subjects of the fixture users: one opaque UUID, one plain username. */
export const USERS = {
	uuid: {
		sub: 'b8f3e2c4-1234-4a5b-9c6d-0123456789ab',
		preferred_username: 'ada',
		name: 'Ada Lovelace',
		email: 'ada@example.test'
	},
	username: {
		sub: 'grace',
		preferred_username: 'grace',
		name: 'Grace Hopper',
		email: 'grace@example.test'
	}
};

/**
 * `clients` are added to the two above; `config` is merged over the provider configuration (a
 * provider shaped like a particular product: its client authentication methods, keys, features).
 * `refuseBasic`: the token endpoint refuses HTTP Basic client authentication, as providers that
 * support only client_secret_post do (oidc-provider by itself takes either for both).
 * `logout`: the two built-in clients register the app's post-logout redirect URI and back-channel
 * logout URI (on the origin of the first redirect URI), and the provider sends back-channel logouts.
 * `discovery`: fields that replace the discovery document's own (oidc-provider's `discovery`
 * option only adds), for a provider whose document says less than it does (a partial
 * claims_supported); fields of the object can be changed while the provider runs.
 * `accounts`: more claims per subject, merged over the fixture users' (groups, roles, nested
 * `realm_access`, Entra's overage markers); entries can be changed while the provider runs. They
 * are released with the `groups` scope (and, when `config.conformIdTokenClaims` is false, put
 * in the ID token as well as userinfo).
 * `signIns`: how each subject signs in at the provider, entries changeable while it runs:
 * `amr` (a list), `acr` (a string) and `authTimeAgo` (seconds before now: the ID token's
 * `auth_time`). oidc-provider puts these in the ID token from its own session, so they are set
 * where its login interaction ends.
 * @param {{ redirectUris: string[], port?: number, clients?: import('oidc-provider').ClientMetadata[],
 *   config?: Record<string, unknown>, refuseBasic?: boolean, logout?: boolean,
 *   discovery?: Record<string, unknown>, accounts?: Record<string, Record<string, unknown>>,
 *   signIns?: Record<string, { amr?: string[], acr?: string, authTimeAgo?: number }> }} options
 */
export async function startIdp({
	redirectUris,
	port,
	clients = [],
	config = {},
	refuseBasic,
	logout,
	discovery,
	accounts = {},
	signIns
}) {
	port ??= await freePort();
	const issuer = `http://127.0.0.1:${port}`;
	/** @type {Record<string, Record<string, unknown>>} */
	const known = Object.fromEntries(Object.values(USERS).map((u) => [u.sub, u]));
	const appOrigin = new URL(redirectUris[0]).origin;
	const logoutMetadata = logout
		? {
				post_logout_redirect_uris: [`${appOrigin}/login?signed_out=1`],
				backchannel_logout_uri: `${appOrigin}/api/auth/sso/oidc/backchannel-logout`,
				backchannel_logout_session_required: true
			}
		: {};
	const provider = new Provider(issuer, {
		clients: [
			{
				client_id: 'librariarr',
				client_secret: CONFIDENTIAL_SECRET,
				redirect_uris: redirectUris,
				grant_types: ['authorization_code'],
				response_types: ['code'],
				token_endpoint_auth_method: 'client_secret_basic',
				...logoutMetadata
			},
			{
				client_id: 'librariarr-public',
				redirect_uris: redirectUris,
				grant_types: ['authorization_code'],
				response_types: ['code'],
				token_endpoint_auth_method: 'none',
				...logoutMetadata
			},
			{
				client_id: QUIRK_CLIENTS.rawBasic,
				client_secret: RAW_BASIC_SECRET,
				redirect_uris: redirectUris,
				grant_types: ['authorization_code'],
				response_types: ['code'],
				token_endpoint_auth_method: 'client_secret_basic'
			},
			{
				client_id: QUIRK_CLIENTS.postOnly,
				client_secret: RAW_BASIC_SECRET,
				redirect_uris: redirectUris,
				grant_types: ['authorization_code'],
				response_types: ['code'],
				token_endpoint_auth_method: 'client_secret_post'
			},
			...clients.map(
				(c) =>
					/** @type {import('oidc-provider').ClientMetadata} */ ({
						redirect_uris: redirectUris,
						grant_types: ['authorization_code'],
						response_types: ['code'],
						...c
					})
			)
		],
		pkce: { required: () => true },
		features: {
			devInteractions: { enabled: true },
			...(logout ? { backchannelLogout: { enabled: true } } : {}),
			.../** @type {object} */ (config.features)
		},
		cookies: { keys: ['test-only-cookie-key'] },
		// oidc-provider refuses to call loopback addresses (its guard against SSRF); the app under
		// test is on loopback, so back-channel logouts go out without that guard here.
		...(logout
			? {
					/** @type {(url: string | URL | Request, options?: RequestInit) => Promise<Response>} */
					fetch: (url, options = {}) => {
						const { dispatcher: _guard, ...rest } =
							/** @type {RequestInit & { dispatcher?: unknown }} */ (options);
						return fetch(url, rest);
					}
				}
			: {}),
		claims: {
			// With `signIns`, the ID token carries how the person signed in (oidc-provider sends
			// these only when asked for them otherwise).
			openid: signIns ? ['sub', 'amr', 'acr', 'auth_time'] : ['sub'],
			email: ['email', 'email_verified'],
			profile: ['name', 'preferred_username'],
			groups: ['groups', 'roles', 'realm_access', 'hasgroups', '_claim_names']
		},
		findAccount: async (_ctx, sub) => ({
			accountId: sub,
			claims: async () => ({
				sub,
				...(known[sub] ?? { preferred_username: sub, email: `${sub}@example.test` }),
				...accounts[sub]
			})
		}),
		...Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'features'))
	});
	if (discovery) {
		provider.use(async (ctx, next) => {
			await next();
			if (ctx.path === '/.well-known/openid-configuration' && ctx.body)
				Object.assign(/** @type {Record<string, unknown>} */ (ctx.body), discovery);
		});
	}
	if (refuseBasic) {
		provider.use(async (ctx, next) => {
			if (ctx.path === '/token' && ctx.headers.authorization) {
				ctx.status = 401;
				ctx.body = { error: 'invalid_client', error_description: 'use client_secret_post' };
				return;
			}
			await next();
		});
	}
	/** @type {{ clientId: string, basic: boolean, status: number }[]} */
	const tokenRequests = [];
	provider.use(async (ctx, next) => {
		if (ctx.path !== '/token' || ctx.method !== 'POST') return next();
		const header = ctx.headers.authorization ?? '';
		const basic = header.startsWith('Basic ')
			? Buffer.from(header.slice(6), 'base64').toString('utf8')
			: null;
		// The id and secret as a provider that does not decode sees them.
		const colon = basic?.indexOf(':') ?? -1;
		const rawId = basic !== null && colon >= 0 ? basic.slice(0, colon) : null;
		const rawSecret = basic !== null && colon >= 0 ? basic.slice(colon + 1) : null;
		const refuse = (
			/** @type {string} */ clientId,
			/** @type {number} */ status,
			/** @type {string} */ error,
			/** @type {string} */ description
		) => {
			tokenRequests.push({ clientId, basic: true, status });
			ctx.status = status;
			ctx.body = { error, error_description: description };
		};
		if (basic === null && ctx.is('application/x-www-form-urlencoded')) {
			// Read here to see the client_id; oidc-provider then takes the parsed body.
			const chunks = [];
			for await (const chunk of ctx.req) chunks.push(chunk);
			const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
			/** @type {{ body?: unknown }} */ (ctx.request).body = form;
			if (form.client_id === QUIRK_CLIENTS.rawBasic) {
				tokenRequests.push({ clientId: form.client_id, basic: false, status: 401 });
				ctx.status = 401;
				ctx.body = { error: 'invalid_client', error_description: 'client_secret_basic only' };
				return;
			}
		}
		if (rawId === QUIRK_CLIENTS.postOnly)
			return refuse(rawId, 403, 'unauthorized_client', 'client_secret_post only');
		if (rawId === QUIRK_CLIENTS.rawBasic) {
			if (rawSecret !== RAW_BASIC_SECRET)
				return refuse(rawId, 401, 'invalid_client', 'Wrong credentials');
			// Accepted as it is: hand oidc-provider the standard form, which it decodes.
			const encoded = `${formEncode(rawId)}:${formEncode(rawSecret)}`;
			ctx.headers.authorization = `Basic ${Buffer.from(encoded).toString('base64')}`;
		}
		// Everything else goes to oidc-provider (which takes Basic or the body from any client).
		await next();
		tokenRequests.push({
			clientId: ctx.oidc?.client?.clientId ?? rawId ?? '?',
			basic: basic !== null,
			status: ctx.status
		});
	});
	// The login interaction's result carries the session's amr, acr and login time (auth_time).
	const finished = provider.interactionFinished.bind(provider);
	provider.interactionFinished = (req, res, result, options) => {
		const login = /** @type {{ accountId?: string } & Record<string, unknown> | undefined} */ (
			result.login
		);
		const how = login?.accountId ? signIns?.[login.accountId] : undefined;
		if (login && how) {
			if (how.amr) login.amr = how.amr;
			if (how.acr) login.acr = how.acr;
			if (how.authTimeAgo !== undefined) login.ts = Math.floor(Date.now() / 1000) - how.authTimeAgo;
		}
		return finished(req, res, result, options);
	};
	provider.on('server_error', (_ctx, error) => console.error('[idp] server_error', error));
	provider.on('backchannel.error', (_ctx, error) =>
		console.error('[idp] backchannel.error', error)
	);
	const server = provider.listen(port, '127.0.0.1');
	await new Promise((resolve) => server.once('listening', resolve));
	return {
		issuer,
		port,
		tokenRequests,
		stop: () => new Promise((resolve) => server.close(() => resolve(undefined)))
	};
}

/** @param {string} value */
function formEncode(value) {
	return new URLSearchParams({ v: value }).toString().slice(2);
}
