import { error, json } from '@sveltejs/kit';
import { authenticationOptions, rpIdFor } from '$lib/server/auth/passkeys';
import { loginPageWays } from '$lib/server/sso';
import type { RequestHandler } from './$types';

/** A challenge for signing in with a passkey (the login page's button and autofill ask here). */
export const POST: RequestHandler = async ({ locals, cookies }) => {
	if (!(await loginPageWays(rpIdFor(locals.client.origin))).passkey)
		error(404, 'Passkey sign-in is not available here.');
	return json(await authenticationOptions(locals.client.origin, cookies, locals.secureCookies));
};
