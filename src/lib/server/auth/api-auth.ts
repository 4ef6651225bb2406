// Who is calling /api/v1: the API key of the request, or the refusal to answer instead
// (hooks.server.ts runs it for every /api/v1 path, and nothing else looks at keys, so a key sent
// to a page or a form action is never read: it reaches nothing there).
//
// The rules, in order: a key in the query string is refused (it ends up in proxy logs); a
// request with both the session cookie and a key is refused (a browser's cookie must not mix
// with a script's key); no key is a 401 naming the header; then the key itself (api-keys.ts).
// Refusals are JSON `{ "error": "…" }`; 401s carry `WWW-Authenticate: Bearer`.
import type { RequestEvent } from '@sveltejs/kit';
import { log } from '../log';
import { resolveApiKey, visiblePart, type ApiPrincipal, type ApiScope } from './api-keys';
import { SESSION_COOKIE } from './session';

export const API_PREFIX = '/api/v1/';
/** Paths under /api/v1 that need no key (the API's own description). */
const OPEN_PATHS = new Set(['/api/v1/openapi.json']);
/** Query parameters a key is sometimes sent in; any of them is refused. */
const QUERY_NAMES = ['apikey', 'api_key', 'api-key', 'access_token', 'token', 'key'];

export const HEADER_HINT =
	'Send the key in the X-Api-Key header (or as Authorization: Bearer <key>).';

export function isApiPath(path: string) {
	return path.startsWith(API_PREFIX) || path === API_PREFIX.slice(0, -1);
}

/** A JSON refusal of the API. */
export function apiError(status: number, message: string, headers: Record<string, string> = {}) {
	return new Response(JSON.stringify({ error: message }), {
		status,
		headers: {
			'content-type': 'application/json; charset=utf-8',
			'cache-control': 'no-store',
			...headers
		}
	});
}

const unauthorized = (message: string, error?: string) =>
	apiError(401, message, {
		'www-authenticate': error
			? `Bearer realm="librariarr", error="${error}"`
			: 'Bearer realm="librariarr"'
	});

/** The key the request carries: undefined for none, null for two different ones. */
function sentKey(headers: Headers): string | null | undefined {
	const header = headers.get('x-api-key')?.trim() || undefined;
	const authorization = headers.get('authorization')?.trim();
	const bearer = authorization && /^bearer\s+(\S+)$/i.exec(authorization)?.[1];
	if (header && bearer && header !== bearer) return null;
	return header ?? (bearer || undefined);
}

type ApiEvent = Pick<RequestEvent, 'url' | 'request' | 'cookies' | 'locals'>;

/** The request's key, or the answer that refuses it. */
export async function authenticateApi(event: ApiEvent): Promise<ApiPrincipal | Response | null> {
	const { url, request, cookies, locals } = event;
	for (const name of url.searchParams.keys()) {
		if (QUERY_NAMES.includes(name.toLowerCase())) {
			return apiError(
				400,
				`API keys are not accepted in the address (“?${name}=”): addresses end up in logs. ${HEADER_HINT}`
			);
		}
	}
	if (OPEN_PATHS.has(url.pathname)) return null;
	const key = sentKey(request.headers);
	if (key === null) {
		return apiError(400, 'X-Api-Key and Authorization: Bearer name two different keys. Send one.');
	}
	if (key !== undefined && cookies.get(SESSION_COOKIE) !== undefined) {
		return apiError(
			400,
			'This request carries both a sign-in cookie and an API key. Send the key without cookies.'
		);
	}
	if (key === undefined) return unauthorized(`This needs an API key. ${HEADER_HINT}`);
	const result = await resolveApiKey(key, locals.client.ip);
	if (result.ok) return result.key;
	const prefix = visiblePart(key);
	switch (result.reason) {
		case 'throttled':
			return apiError(429, 'Too many wrong API keys from your address. Try again later.', {
				'retry-after': String(result.retryAfterSeconds)
			});
		case 'revoked':
			log.debug('Refused revoked API key', { prefix, ip: locals.client.ip });
			return unauthorized(
				`The API key ${prefix}… was revoked. Make a new one in Settings → Security.`,
				'invalid_token'
			);
		case 'expired':
			log.debug('Refused expired API key', { prefix, ip: locals.client.ip });
			return unauthorized(
				`The API key ${prefix}… has expired. Make a new one in Settings → Security.`,
				'invalid_token'
			);
		default:
			return unauthorized('That API key is not valid.', 'invalid_token');
	}
}

/**
 * The key of this request when its scope allows `needed`, or the 403 that says why not (the
 * route answers it). `full` covers `read`.
 */
export function requireScope(
	event: Pick<RequestEvent, 'locals'>,
	needed: ApiScope
): ApiPrincipal | Response {
	const key = event.locals.apiKey;
	if (!key) return unauthorized(`This needs an API key. ${HEADER_HINT}`);
	if (needed === 'full' && key.scope !== 'full') {
		return apiError(
			403,
			`The API key ${key.prefix}… is read-only; this needs a key with the “full” scope.`
		);
	}
	return key;
}
