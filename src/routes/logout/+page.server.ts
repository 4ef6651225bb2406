import { redirect } from '@sveltejs/kit';
import { audit } from '$lib/server/audit';
import { deleteSessionCookie, invalidateSession } from '$lib/server/auth/session';
import type { Actions, PageServerLoad } from './$types';

// Signing out is a POST (a link or an image tag must not be able to do it); GET shows a button.
export const load: PageServerLoad = ({ locals }) => {
	if (!locals.user) redirect(303, '/login');
};

export const actions: Actions = {
	default: async ({ locals, cookies }) => {
		if (locals.session) {
			await invalidateSession(locals.session.id);
			await audit({
				event: 'logout',
				userId: locals.session.userId,
				method: locals.session.method,
				ip: locals.client.ip
			});
		}
		deleteSessionCookie(cookies, locals.secureCookies);
		redirect(303, '/login');
	}
};
