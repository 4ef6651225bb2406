import { json } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard';
import { authenticationOptions } from '$lib/server/auth/passkeys';
import type { RequestHandler } from './$types';

/** A challenge for proving it is you with a passkey before a change (step-up.ts checks it). */
export const POST: RequestHandler = async (event) => {
	const { user, session } = requireUser(event);
	const options = await authenticationOptions(
		event.locals.client.origin,
		event.cookies,
		event.locals.secureCookies,
		{ userId: user.id, sessionId: session.id }
	);
	return json(options);
};
