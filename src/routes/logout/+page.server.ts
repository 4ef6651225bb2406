import { redirect } from '@sveltejs/kit';
import { audit } from '$lib/server/audit';
import {
	providerLogoutUrl,
	PROXY_NOT_ASKED_PATH,
	proxyLogoutUrl,
	SIGNED_OUT_PATH
} from '$lib/server/auth/rp-logout';
import { deleteSessionCookie, invalidateSession } from '$lib/server/auth/session';
import type { Actions, PageServerLoad } from './$types';

// Signing out is a POST (a link or an image tag must not be able to do it); GET shows a button.
export const load: PageServerLoad = ({ locals }) => {
	if (!locals.user) redirect(303, '/login');
};

export const actions = {
	default: async ({ locals, cookies }) => {
		let next = SIGNED_OUT_PATH;
		if (locals.session) {
			// Read before the session ends: the ID token it keeps is the id_token_hint.
			const atProvider = await providerLogoutUrl(locals.session, locals.client.origin);
			const atProxy = await proxyLogoutUrl(locals.session, locals.client.origin);
			await invalidateSession(locals.session.id);
			await audit({
				event: 'logout',
				userId: locals.session.userId,
				method: locals.session.method,
				ip: locals.client.ip,
				detail: atProvider
					? { atProvider: true }
					: atProxy && atProxy !== PROXY_NOT_ASKED_PATH
						? { atProxy: true }
						: undefined
			});
			next = atProvider ?? atProxy ?? next;
		}
		deleteSessionCookie(cookies, locals.secureCookies);
		redirect(303, next);
	}
} satisfies Actions;
