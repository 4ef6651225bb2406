import { fail, redirect } from '@sveltejs/kit';
import { readForm } from '$lib/server/form';
import * as v from 'valibot';
import { audit } from '$lib/server/audit';
import { hashPassword } from '$lib/server/auth/password';
import { signIn } from '$lib/server/auth/sign-in';
import { createFirstUser } from '$lib/server/users';
import { fieldErrors, formFields } from '$lib/schemas/fields';
import { setupSchema } from '$lib/schemas/setup';
import { PLEX_ERRORS } from '$lib/plex-errors';
import type { Actions, PageServerLoad } from './$types';

const SETUP_DONE = '/login?setup=done';

export const load: PageServerLoad = ({ locals, url }) => {
	// Setup exists only until the first user does.
	if (locals.hasUsers) redirect(303, locals.user ? '/' : '/login');
	const code = url.searchParams.get('plex_error');
	return { plexError: code && Object.hasOwn(PLEX_ERRORS, code) ? PLEX_ERRORS[code] : null };
};

export const actions = {
	default: async (event) => {
		const { request, locals } = event;
		if (locals.hasUsers) redirect(303, SETUP_DONE);
		const form = formFields(await readForm(request), [
			'displayName',
			'localUsername',
			'password',
			'confirmPassword'
		] as const);
		const values = { displayName: form.displayName, localUsername: form.localUsername };
		const parsed = v.safeParse(setupSchema, form);
		if (!parsed.success) return fail(400, { values, errors: fieldErrors(parsed.issues) });

		const { displayName, localUsername, password } = parsed.output;
		const user = await createFirstUser({
			displayName,
			localUsername,
			passwordHash: await hashPassword(password)
		});
		// Lost the race to another setup: the login page says so.
		if (!user) redirect(303, SETUP_DONE);
		const { client } = locals;
		await signIn(event, user.id, 'local');
		await audit({
			event: 'setup.completed',
			userId: user.id,
			method: 'local',
			ip: client.ip,
			detail: { localUsername }
		});
		redirect(303, '/');
	}
} satisfies Actions;
