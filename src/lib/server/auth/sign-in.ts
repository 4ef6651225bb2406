// Where every way of signing in ends: the browser's previous session (if any) is ended, a new
// one is created for the user with a fresh token, the cookie is set, the browser is remembered
// as a known device of that user (see known-device.ts), and the sign-in is audited.
import type { RequestEvent } from '@sveltejs/kit';
import { audit } from '../audit';
import { seal } from '../crypto';
import { rememberDevice } from './known-device';
import { createSession, invalidateSession, setSessionCookie, type LoginMethod } from './session';

/** Longer ID tokens are not kept (RP-initiated logout then goes without id_token_hint). */
const MAX_ID_TOKEN_CHARS = 16 * 1024;

export async function signIn(
	event: Pick<RequestEvent, 'locals' | 'cookies' | 'request'>,
	userId: number,
	method: LoginMethod,
	decoration: {
		ssoSubject?: string;
		displayName?: string | null;
		email?: string | null;
		oidc?: { idToken: string; sid: string | null; issuer: string };
	} = {}
) {
	const { locals } = event;
	if (locals.session) await invalidateSession(locals.session.id);
	const { token, session } = await createSession(userId, method, {
		ip: locals.client.ip,
		userAgent: event.request.headers.get('user-agent'),
		ssoSubject: decoration.ssoSubject,
		displayName: decoration.displayName,
		email: decoration.email,
		oidc: decoration.oidc && {
			// Sealed like the client secret: a leaked table must not hand out ID tokens.
			sealedIdToken:
				decoration.oidc.idToken.length <= MAX_ID_TOKEN_CHARS ? seal(decoration.oidc.idToken) : null,
			sid: decoration.oidc.sid,
			issuer: decoration.oidc.issuer
		}
	});
	setSessionCookie(event.cookies, token, session.expiresAt, locals.secureCookies);
	rememberDevice(event.cookies, userId, locals.secureCookies);
	await audit({ event: 'login.succeeded', userId, method, ip: locals.client.ip });
}
