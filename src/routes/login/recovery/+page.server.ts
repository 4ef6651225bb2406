import { fail, redirect } from '@sveltejs/kit';
import { findRecoveryAccount } from '$lib/server/auth/recovery-codes';
import { checkCode } from '$lib/server/auth/second-step';
import { signIn } from '$lib/server/auth/sign-in';
import * as v from 'valibot';
import { formFields, textField } from '$lib/schemas/fields';
import { readForm } from '$lib/server/form';
import type { Actions, PageServerLoad } from './$types';

// Sign in with a one-time recovery code. It works whatever the sign-in settings say (SSO hiding
// the password form, the provider down): it talks to nothing but the database.
export const load: PageServerLoad = async ({ locals }) => {
	if (locals.user) redirect(303, '/settings/authentication');
	return {};
};

const LIMIT = 128;

export const actions = {
	default: async (event) => {
		const form = formFields(await readForm(event.request), ['username', 'code'] as const);
		const username = form.username.trim().toLowerCase();
		if (!username || username.length > LIMIT || !v.is(textField, username)) {
			return fail(400, { username: '', message: 'Enter your username.' });
		}
		if (!form.code.trim() || form.code.length > LIMIT) {
			return fail(400, { username, message: 'Enter one of your recovery codes.' });
		}
		const userId = await findRecoveryAccount(username);
		const check = await checkCode(
			event,
			{ userId, account: username },
			'recovery-code',
			form.code,
			'recovery-code'
		);
		if (!check.ok) return fail(check.status, { username, message: check.message });
		await signIn(event, userId!, 'recovery-code');
		redirect(303, '/settings/authentication?recovered=1');
	}
} satisfies Actions;
