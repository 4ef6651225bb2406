import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (!locals.user || !locals.session) error(401, 'Not signed in');
	return {
		// An SSO session shows the name and email the provider or proxy supplied.
		displayName: locals.session.displayName ?? locals.user.username,
		email: locals.session.email ?? locals.user.email,
		method: locals.session.method,
		since: locals.session.createdAt.toISOString()
	};
};
