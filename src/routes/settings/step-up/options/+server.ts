import { error, json } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard';
import { authenticationOptions } from '$lib/server/auth/passkeys';
import type { RequestHandler } from './$types';

/** A challenge for proving it is you with a passkey before a change (step-up.ts checks it). */
export const POST: RequestHandler = async (event) => {
	requireUser(event);
	const { origin, ip } = event.locals.client;
	const options = await authenticationOptions(origin, ip);
	if (!options) error(429, 'Too many passkey requests right now. Try again in a minute.');
	return json(options);
};
