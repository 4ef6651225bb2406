import { json, type Handle, type HandleServerError, type ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { dev } from '$app/environment';
import { apiError, authenticateApi, isApiPath } from '$lib/server/auth/api-auth';
import { BACKCHANNEL_LOGOUT_PATH } from '$lib/server/auth/backchannel';
import { isCrossOriginWrite, resolveClient } from '$lib/server/client';
import { guardRedirect } from '$lib/server/auth/guard';
import {
	deleteSessionCookie,
	invalidateSession,
	SESSION_COOKIE,
	setSessionCookie,
	validateSessionToken,
	type Resolved
} from '$lib/server/auth/session';
import { readIdentityHeader } from '$lib/server/auth/sources/forward';
import {
	cancelBackupsOnShutdown,
	startBackupScheduler,
	stopBackupScheduler
} from '$lib/server/backup';
import { config, configWarnings } from '$lib/server/config';
import { StartError, startDatabase, stopDatabase } from '$lib/server/db';
import { isUnavailable, withinBudget } from '$lib/server/health';
import { startHousekeeping, stopHousekeeping } from '$lib/server/housekeeping';
import { startAlertSender, stopAlertSender } from '$lib/server/alerts/sender';
import { checkInstanceKey } from '$lib/server/instance';
import { setSecurityHeaders } from '$lib/server/headers';
import { log } from '$lib/server/log';
import { crossOriginPage, crossOriginWords, unavailablePage } from '$lib/server/pages';
import { hasAnyUser } from '$lib/server/users';

export const init: ServerInit = async () => {
	// The environment and the port were checked by src/instrumentation.server.ts already.
	for (const warning of configWarnings()) log.warn(warning);
	if (config.ssoDisableOverride) {
		log.warn(
			'SSO_DISABLE_OVERRIDE is on: SSO sign-in is off everywhere and the password form is shown. Remove it once you are back in.'
		);
	}
	try {
		await startDatabase();
	} catch (error) {
		// One line, no stack: the database cannot be reached, or refuses us (see db.ts).
		if (!(error instanceof StartError)) throw error;
		console.error(`Cannot start: ${error.message}`);
		process.exit(1);
	}
	const keyProblem = await checkInstanceKey();
	if (keyProblem) {
		console.error(`Cannot start: ${keyProblem}`);
		await stopDatabase().catch(() => {});
		process.exit(1);
	}
	cancelBackupsOnShutdown();
	startBackupScheduler();
	if (!dev) {
		// After adapter-node's "Listening on …" line (it listens once init has returned), so that
		// the address to open is the last thing the start log says. (`vite dev` prints its own.)
		const firstRun = !(await hasAnyUser());
		setTimeout(() => {
			const url = publicUrl();
			log.info(firstRun ? `Open ${url} to create the administrator account` : `Open ${url}`);
		}, 0);
	}
	startHousekeeping();
	startAlertSender();
	process.once('sveltekit:shutdown' as never, async () => {
		stopBackupScheduler();
		await Promise.all([stopHousekeeping(), stopAlertSender()]);
		await stopDatabase().catch((error) =>
			log.error('Error while stopping the database', { error: String(error) })
		);
	});
};

/** The address to give the admin at start: ORIGIN, or this machine's port. */
function publicUrl() {
	if (config.origin) return config.origin;
	const local = config.host === '0.0.0.0' || config.host === '::';
	const host = local ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
	return `http://${host}:${config.port}`;
}

/** Paths that work before any user exists and without a session. */
const PUBLIC_PATHS = ['/login', '/setup', '/healthz', '/metrics', '/api/auth/', '/not-me/'];
const FIRST_RUN_PATHS = ['/setup', '/healthz', '/metrics', '/api/auth/plex/'];

function startsWithAny(path: string, prefixes: string[]) {
	return prefixes.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`));
}

/** The cross-origin write check's refusal, or null when the request may go on. */
function crossOriginRefusal(event: Parameters<Handle>[0]['event']): Response | null {
	// The identity provider's back-channel logout comes server to server, without an Origin: that
	// one path checks its own input (a signed logout token) instead. So does /api/v1: it answers
	// API keys only, never the session cookie (api-auth.ts refuses a cookie sent with a key), so
	// a cross-origin page cannot make a browser act there.
	if (
		event.url.pathname === BACKCHANNEL_LOGOUT_PATH ||
		isApiPath(event.url.pathname) ||
		!isCrossOriginWrite(event.request.method, event.request.headers, event.locals.client.origin)
	) {
		return null;
	}
	log.warn('Refused cross-origin write', {
		path: event.url.pathname,
		origin: event.request.headers.get('origin') ?? '(none)',
		expected: event.locals.client.origin,
		ip: event.locals.client.ip
	});
	const words = crossOriginWords(
		parseOrigin(event.request.headers.get('origin')),
		event.locals.client.origin,
		config.origin !== null
	);
	// An enhanced form (use:enhance) reads Kit's JSON action answer: an `error` shows the words on
	// the error page instead of breaking the page's script with text it cannot parse.
	if (
		event.request.headers.get('x-sveltekit-action') === 'true' ||
		event.request.headers.get('accept')?.includes('application/json')
	) {
		return json(
			{ type: 'error', status: 403, error: { message: `${words.lead} ${words.fix}` } },
			{ status: 403, headers: { 'cache-control': 'no-store' } }
		);
	}
	if (event.request.headers.get('accept')?.includes('text/html')) return crossOriginPage(words);
	return new Response(`${words.lead}\n${words.fix}\n`, {
		status: 403,
		headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }
	});
}

/** An Origin header as shown to the admin: a bare scheme://host[:port], or null. */
function parseOrigin(value: string | null): string | null {
	if (!value || value === 'null') return null;
	try {
		const url = new URL(value);
		return url.origin === value ? value : null;
	} catch {
		return null;
	}
}

/**
 * Client address, public origin, and the cross-origin write check; then the request ID and the
 * security headers on every response, refusals and the guard's redirects included (every other
 * handle returns its answer instead of throwing it, so that it passes back through here).
 */
const client: Handle = async ({ event, resolve }) => {
	event.locals.requestId = crypto.randomUUID();
	event.locals.client = resolveClient(event.getClientAddress(), event.request.headers, event.url);
	event.locals.secureCookies =
		config.cookieSecure || event.locals.client.origin.startsWith('https:');
	const response = crossOriginRefusal(event) ?? (await resolve(event));
	response.headers.set('x-request-id', event.locals.requestId);
	await setSecurityHeaders(
		response.headers,
		event.route.id,
		event.locals.user !== null,
		event.locals.session?.rpLogoutIssuer ?? null
	);
	return response;
};

/**
 * `?/name` picks a form action, and Kit looks the name up on the actions object as given: a name
 * the object inherits (`__proto__`, `constructor`, `toString`, …) or the reserved `default` would
 * reach Kit as a crash. Those are refused here as the unknown actions they are.
 */
const actionName: Handle = async ({ event, resolve }) => {
	if (event.request.method === 'POST') {
		for (const [key] of event.url.searchParams) {
			if (!key.startsWith('/')) continue;
			const name = key.slice(1);
			if (name === 'default' || name in Object.prototype) {
				log.warn('Refused unknown form action', {
					path: event.url.pathname,
					action: name.slice(0, 64),
					ip: event.locals.client.ip
				});
				return new Response('No such form action.', {
					status: 404,
					headers: { 'content-type': 'text/plain; charset=utf-8' }
				});
			}
			break;
		}
	}
	return resolve(event);
};

/**
 * One query resolves the cookie into locals.user / locals.session (null when signed out). It is
 * every request's first wait on the database, so it carries the request's budget (health.ts):
 * past it, or while the database is known to be down, the answer is the 503 page.
 */
const session: Handle = async ({ event, resolve }) => {
	event.locals.user = null;
	event.locals.session = null;
	event.locals.apiKey = null;
	event.locals.hasUsers = true;
	// The probes answer for themselves (/metrics checks its bearer token), without a session.
	if (event.url.pathname === '/healthz' || event.url.pathname === '/metrics') return resolve(event);
	if (isApiPath(event.url.pathname)) return apiKey(event, resolve);

	const token = event.cookies.get(SESSION_COOKIE) ?? null;
	let resolved;
	try {
		resolved = await withinBudget(() => validateSessionToken(token));
	} catch (error) {
		// Once per cause and 5 minutes: an outage must not write a line per request.
		log.errorOncePerWindow('Database unavailable while resolving the session', {
			error: String(error)
		});
		return unavailablePage();
	}
	event.locals.hasUsers = resolved.hasUsers;
	if (resolved.session?.method === 'forward-auth' && !forwardSessionStillBound(event, resolved)) {
		// The proxy no longer vouches for this user (another user, none, or a request that did not
		// come through a trusted proxy at all): the session ends here.
		await invalidateSession(resolved.session.id);
		deleteSessionCookie(event.cookies, event.locals.secureCookies);
		log.info('Forward-auth session ended: the proxy no longer sends its user', {
			user: resolved.session.userId,
			ip: event.locals.client.ip
		});
		return resolve(event);
	}
	if (token !== null && !resolved.session) {
		// Unknown, expired, ended or malformed: tell the browser to drop it instead of sending it
		// (and costing a lookup) on every request.
		deleteSessionCookie(event.cookies, event.locals.secureCookies);
	}
	event.locals.user = resolved.user;
	event.locals.session = resolved.session;
	if (resolved.session && resolved.renewed && token) {
		setSessionCookie(event.cookies, token, resolved.session, event.locals.secureCookies);
	}
	return resolve(event);
};

/**
 * /api/v1 is reached with an API key only: its one query instead of the session's, and no
 * session, cookie or user is made from it (locals.user stays null; routes read locals.apiKey).
 */
async function apiKey(
	event: Parameters<Handle>[0]['event'],
	resolve: Parameters<Handle>[0]['resolve']
) {
	let result;
	try {
		result = await withinBudget(() => authenticateApi(event));
	} catch (error) {
		log.errorOncePerWindow('Database unavailable while resolving the session', {
			error: String(error)
		});
		return apiError(503, "Librariarr can't reach its database. Try again in a minute.", {
			'retry-after': '30'
		});
	}
	if (result instanceof Response) return result;
	event.locals.apiKey = result;
	return resolve(event);
}

function forwardSessionStillBound(event: Parameters<Handle>[0]['event'], resolved: Resolved) {
	if (!event.locals.client.peerTrusted) return false;
	return (
		readIdentityHeader(event.request.headers, resolved.forwardUserHeader) ===
		resolved.session?.ssoSubject
	);
}

/** First run leads to /setup; signed-out visitors go to /login. Loads still check for themselves. */
const guard: Handle = async ({ event, resolve }) => {
	const path = event.url.pathname;
	if (!event.route.id) return resolve(event); // unknown path: let Kit answer 404
	if (isApiPath(path)) return resolve(event); // the key was checked by `session`
	if (!event.locals.hasUsers && !startsWithAny(path, FIRST_RUN_PATHS)) {
		return guardRedirect(event, '/setup');
	}
	if (!event.locals.user && !startsWithAny(path, PUBLIC_PATHS)) {
		const returnTo = path === '/' ? '' : `?returnTo=${encodeURIComponent(path + event.url.search)}`;
		return guardRedirect(event, `/login${returnTo}`);
	}
	return resolve(event);
};

/** A request that failed because the database went away mid-way gets the 503 page, not a 500. */
const unavailable: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	return event.locals.databaseUnavailable && response.status >= 500 ? unavailablePage() : response;
};

export const handle = sequence(client, actionName, unavailable, session, guard);

export const handleError: HandleServerError = ({ error, event, status, message }) => {
	const requestId = event.locals.requestId;
	if (status < 500) {
		// Kit's own refusals of a client's mistake (an unknown action, a body that is not form
		// data, one above BODY_SIZE_LIMIT): a warning without a stack, and the reason for the client.
		const reason = error instanceof Error ? error.message : message;
		if (status !== 404) {
			log.warn('Request refused', { requestId, path: event.url.pathname, status, reason });
		}
		// A 404 is not logged, so it gets no request ID to quote.
		return status === 404 ? { message } : { message: reason, requestId };
	}
	if (isUnavailable(error)) {
		event.locals.databaseUnavailable = true;
		log.error('Database unavailable', {
			requestId,
			path: event.url.pathname,
			error: String(error)
		});
		return { message: "Librariarr can't reach its database.", requestId };
	}
	log.error('Unhandled error', {
		requestId,
		path: event.url.pathname,
		error: error instanceof Error ? (error.stack ?? error.message) : String(error)
	});
	return { message: 'Something went wrong on our side.', requestId };
};
