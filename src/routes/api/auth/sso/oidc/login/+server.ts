import { redirect } from '@sveltejs/kit';
import { safeReturnTo } from '$lib/server/auth/redirect';
import { startFlow } from '$lib/server/auth/sign-in-flows';
import { ssoAvailability } from '$lib/server/sso';
import { DiscoveryError, getDiscovery, startAuthorization } from '$lib/server/auth/sources/oidc';
import { log } from '$lib/server/log';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { getSsoConfig } from '$lib/server/sso';
import type { RequestHandler } from './$types';

// Starts an OIDC sign-in: its state sealed in this browser's cookie (no row), then off to the
// provider.
export const GET: RequestHandler = async ({ url, locals, cookies }) => {
	const [sso, availability] = await Promise.all([
		getSsoConfig(),
		ssoAvailability(rpIdFor(locals.client.origin))
	]);
	if (sso.ssoMode !== 'OIDC' || availability === 'off') {
		redirect(303, '/login?sso_error=sso_not_configured');
	}
	let doc;
	try {
		doc = await getDiscovery(sso.oidcIssuer!, sso.ssoConfigVersion);
	} catch (error) {
		// Anyone can start a sign-in: one line per cause and window, not one per start (log.ts).
		log.errorOncePerWindow('OIDC sign-in could not start: discovery failed', {
			issuer: sso.oidcIssuer,
			reason: error instanceof DiscoveryError ? error.message : String(error)
		});
		redirect(303, '/login?sso_error=token_exchange_failed');
	}
	const {
		url: authorizationUrl,
		state,
		nonce,
		codeVerifier
	} = startAuthorization(sso, doc, locals.client.origin);
	startFlow(cookies, locals.secureCookies, 'oidc', {
		purpose: 'login',
		state,
		nonce,
		codeVerifier,
		returnTo: safeReturnTo(url.searchParams.get('returnTo')),
		userId: null
	});
	redirect(303, authorizationUrl.toString());
};
