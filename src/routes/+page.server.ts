import { error } from '@sveltejs/kit';
import { lastSignIn } from '$lib/server/history';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	if (!locals.user || !locals.session) error(401, 'Not signed in');
	const { previous, failedSince } = await lastSignIn(locals.user.id, locals.session.createdAt);
	return {
		lastSignIn: previous && { ...previous, at: previous.at.toISOString() },
		failedSince,
		// An SSO session shows the name and email the provider or proxy supplied.
		displayName: locals.session.displayName ?? locals.user.username,
		email: locals.session.email ?? locals.user.email,
		method: locals.session.method,
		since: locals.session.createdAt.toISOString()
	};
};
