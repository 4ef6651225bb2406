import { redirect } from '@sveltejs/kit';
import { audit, auditFailure } from '$lib/server/audit';
import { safeReturnTo } from '$lib/server/auth/redirect';
import { signIn } from '$lib/server/auth/sign-in';
import { rejectNotLinked, ssoAvailability } from '$lib/server/sso';
import { forwardIdentity } from '$lib/server/auth/sources/forward';
import { log } from '$lib/server/log';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { FORWARD_AUTH_ISSUER, getSsoConfig } from '$lib/server/sso';
import { findUserBySsoIdentity } from '$lib/server/users';
import type { RequestHandler } from './$types';

// "Sign in with SSO" in forward-auth mode: signs in as the linked user the trusted proxy names,
// replacing whatever session this browser had (a Plex link stays on the user, untouched).
export const GET: RequestHandler = async (event) => {
	const { url, locals, request } = event;
	const ip = locals.client.ip;
	const [sso, availability] = await Promise.all([
		getSsoConfig(),
		ssoAvailability(rpIdFor(locals.client.origin))
	]);
	if (sso.ssoMode !== 'FORWARD_AUTH' || availability === 'off')
		redirect(303, '/login?sso_error=sso_not_configured');

	const result = forwardIdentity(locals.client, request.headers, {
		user: sso.forwardAuthUserHeader,
		email: sso.forwardAuthEmailHeader,
		name: sso.forwardAuthNameHeader
	});
	if (!result.ok) {
		log.warn('Forward-auth sign-in refused', {
			reason: result.reason,
			peer: locals.client.peer,
			header: sso.forwardAuthUserHeader
		});
		// Names no account: counted per address prefix and window, not a row per request.
		await auditFailure({
			event: 'login.failed',
			method: 'forward-auth',
			ip,
			detail: { reason: result.reason }
		});
		redirect(303, `/login?sso_error=${result.reason}`);
	}
	const { identity } = result;
	const user = await findUserBySsoIdentity('forward-auth', FORWARD_AUTH_ISSUER, identity.subject);
	if (!user) {
		await rejectNotLinked('forward-auth', identity.subject, ip);
		redirect(303, '/login?sso_error=not_linked');
	}
	if (availability !== 'enabled') {
		await audit({
			event: 'login.failed',
			userId: user.id,
			method: 'forward-auth',
			ip,
			detail: { reason: 'sso_disabled' }
		});
		redirect(303, '/login?sso_error=sso_not_configured');
	}
	await signIn(event, user.id, 'forward-auth', {
		ssoSubject: identity.subject,
		displayName: identity.displayName,
		email: identity.email
	});
	redirect(303, safeReturnTo(url.searchParams.get('returnTo')));
};
