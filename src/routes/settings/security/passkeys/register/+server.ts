import { json } from '@sveltejs/kit';
import * as v from 'valibot';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { audit } from '$lib/server/audit';
import { readForm } from '$lib/server/form';
import { requireUser } from '$lib/server/auth/guard';
import { finishRegistration } from '$lib/server/auth/passkeys';
import { requireStepUp } from '$lib/server/auth/step-up';
import { parseWebauthnResponse, passkeyName } from '$lib/schemas/passkey';
import type { RequestHandler } from './$types';

const REFUSED = {
	expired: 'The passkey request expired or was already used. Start again.',
	invalid: 'The browser’s answer could not be verified. Start again.',
	duplicate: 'That passkey is already registered.',
	'too-many': 'You have the most passkeys allowed. Delete one first.'
} as const;

/** Keeps a new passkey, when the browser's answer fits the challenge this session was given. */
export const POST: RequestHandler = async (event) => {
	const { user, session } = requireUser(event);
	const form = await readForm(event.request);
	// The options were given after a proof, which covers this request for five minutes; asked
	// again so that no path adds a passkey without it.
	const proof = await requireStepUp(event, user, session, form);
	if (!proof.ok) {
		return json(
			{ message: proof.message, field: proof.field, stepUp: true },
			{ status: proof.status }
		);
	}
	const name = v.safeParse(passkeyName, form.get('name') ?? '');
	if (!name.success) {
		return json({ message: name.issues[0].message, field: 'name' }, { status: 400 });
	}
	const response = parseWebauthnResponse<RegistrationResponseJSON>(form.get('response'));
	if (!response) {
		return json({ message: 'The browser sent no usable passkey answer.' }, { status: 400 });
	}
	const result = await finishRegistration(
		user.id,
		session,
		event.locals.client.origin,
		name.output,
		response,
		event.cookies,
		event.locals.secureCookies
	);
	if (!result.ok) {
		return json(
			{ message: REFUSED[result.reason] },
			{ status: result.reason === 'duplicate' || result.reason === 'too-many' ? 409 : 400 }
		);
	}
	await audit({
		event: 'settings.passkey_added',
		userId: user.id,
		ip: event.locals.client.ip,
		detail: { name: name.output }
	});
	return json({ message: `Passkey “${name.output}” added.` });
};
