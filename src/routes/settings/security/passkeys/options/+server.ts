import { json } from '@sveltejs/kit';
import { auditRepeated } from '$lib/server/audit';
import { readForm } from '$lib/server/form';
import { requireUser } from '$lib/server/auth/guard';
import { checkProof, registrationOptions } from '$lib/server/auth/passkeys';
import { minutesText } from '$lib/server/auth/throttle';
import { getPasswordHash } from '$lib/server/users';
import type { RequestHandler } from './$types';

/** Options for adding a passkey, after the proof (current password, or a fresh sign-in). */
export const POST: RequestHandler = async (event) => {
	const { user, session } = requireUser(event);
	const form = await readForm(event.request);
	const password = form.get('currentPassword');
	const ip = event.locals.client.ip;
	const proof = await checkProof(
		user,
		session,
		ip,
		typeof password === 'string' ? password.slice(0, 256) : '',
		await getPasswordHash(user.id)
	);
	if (!proof.ok) {
		if (proof.status === 429) {
			await auditRepeated({
				event: 'settings.credentials_throttled',
				userId: user.id,
				ip,
				detail: { key: proof.key ?? null },
				collapseKey: `${proof.key}@passkey`
			});
			return json(
				{ message: `${proof.message} Try again in ${minutesText(proof.retryAfterSeconds ?? 60)}.` },
				{ status: 429, headers: { 'retry-after': String(proof.retryAfterSeconds ?? 60) } }
			);
		}
		return json({ message: proof.message, field: 'currentPassword' }, { status: proof.status });
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
