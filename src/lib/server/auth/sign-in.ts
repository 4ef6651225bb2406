// Where every way of signing in ends: the browser's previous session (if any) is ended, a new
// one is created for the user with a fresh token, the cookie is set, the browser is remembered
// as a known device of that user (see known-device.ts), and the sign-in is audited.
import type { RequestEvent } from '@sveltejs/kit';
import { audit } from '../audit';
import { rememberDevice } from './known-device';
import { createSession, invalidateSession, setSessionCookie, type LoginMethod } from './session';

export async function signIn(
	event: Pick<RequestEvent, 'locals' | 'cookies' | 'request'>,
	userId: number,
	method: LoginMethod,
	decoration: { ssoSubject?: string; displayName?: string | null; email?: string | null } = {}
) {
	const { locals } = event;
	if (locals.session) await invalidateSession(locals.session.id);
	const { token, session } = await createSession(userId, method, {
		ip: locals.client.ip,
		userAgent: event.request.headers.get('user-agent'),
		...decoration
	});
	setSessionCookie(event.cookies, token, session.expiresAt, locals.secureCookies);
	rememberDevice(event.cookies, userId, locals.secureCookies);
	await audit({ event: 'login.succeeded', userId, method, ip: locals.client.ip });
}
