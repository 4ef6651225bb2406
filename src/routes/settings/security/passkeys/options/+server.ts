import { json } from '@sveltejs/kit';
import { readForm } from '$lib/server/form';
import { requireUser } from '$lib/server/auth/guard';
import { registrationOptions } from '$lib/server/auth/passkeys';
import { requireStepUp } from '$lib/server/auth/step-up';
import type { RequestHandler } from './$types';

/** Options for adding a passkey, after the step-up proof (step-up.ts). */
export const POST: RequestHandler = async (event) => {
	const { user, session } = requireUser(event);
	const proof = await requireStepUp(event, user, session, await readForm(event.request));
	if (!proof.ok) {
		return json(
			{ message: proof.message, field: proof.field, stepUp: true },
			{ status: proof.status }
		);
	}
	const options = await registrationOptions(
		user,
		session,
		event.locals.client.origin,
		event.cookies,
		event.locals.secureCookies
	);
	if (options === 'too-many') {
		return json(
			{ message: 'You have the most passkeys allowed. Delete one first.' },
			{ status: 409 }
		);
	}
	return json(options);
};
