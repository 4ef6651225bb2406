import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
	if (!locals.user || !locals.session) error(401, 'Not signed in');
	return {
		displayName: locals.user.username,
		method: locals.session.method,
		since: locals.session.createdAt.toISOString()
	};
};
