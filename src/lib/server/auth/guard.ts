import { error, json, type RequestEvent } from '@sveltejs/kit';
import { SESSION_COOKIE } from './session';

/** Every load and action checks for itself; the guard handle is only the first line. */
export function requireUser(event: Pick<RequestEvent, 'locals'>) {
	const { user, session } = event.locals;
	if (!user || !session) error(401, 'You need to sign in first.');
	return { user, session };
}

/**
 * The guard handle's redirect (to /login or /setup) as a response it returns, not a `redirect()`
 * it throws: a thrown redirect leaves the handles without passing back through them, so it would
 * miss the security headers and the request ID that the client handle puts on every response.
 * Kit's own shapes are kept: a client-side navigation (`__data.json`) and an enhanced form
 * (`use:enhance` asks for JSON) get the JSON redirect Kit's client follows; a browser a 303.
 * Kit adds the cookies set during a request only to responses it makes, so a session cookie that
 * resolved to nothing is dropped here, as the session handle would have had Kit do.
 */
export function guardRedirect(
	event: Pick<RequestEvent, 'isDataRequest' | 'request' | 'cookies' | 'locals'>,
	location: string
): Response {
	const { request } = event;
	const wantsJson =
		request.method === 'POST' && /application\/json/.test(request.headers.get('accept') ?? '');
	const response = event.isDataRequest
		? json({ type: 'redirect', location })
		: wantsJson
			? json({ type: 'redirect', status: 303, location })
			: new Response(null, { status: 303, headers: { location } });
	// (The request's own header: event.cookies already reads a cookie the session handle deleted
	// as absent.)
	const sent = (event.request.headers.get('cookie') ?? '')
		.split(';')
		.some((pair) => pair.trim().startsWith(`${SESSION_COOKIE}=`));
	if (sent && !event.locals.session) {
		const drop = event.cookies.serialize(SESSION_COOKIE, '', {
			path: '/',
			httpOnly: true,
			sameSite: 'lax',
			secure: event.locals.secureCookies,
			maxAge: 0
		});
		response.headers.append('set-cookie', drop);
	}
	return response;
}
