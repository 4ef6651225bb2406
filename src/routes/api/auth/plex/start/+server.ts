import { randomBytes } from 'node:crypto';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { error, redirect } from '@sveltejs/kit';
import { readForm } from '$lib/server/form';
import { safeReturnTo } from '$lib/server/auth/redirect';
import { requireStepUp } from '$lib/server/auth/step-up';
import {
	authUrl,
	CALLBACK_PATH,
	clientIdentifier,
	createPin,
	PlexUnavailable
} from '$lib/server/auth/sources/plex';
import { startFlow, type Purpose } from '$lib/server/auth/sign-in-flows';
import { log } from '$lib/server/log';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { plexLoginOffered } from '$lib/server/plex';
import type { RequestHandler } from './$types';

const BACK: Record<Purpose, string> = {
	login: '/login',
	link: '/settings/authentication',
	setup: '/setup'
};

// "Sign in with Plex" / "Link Plex account": a POST (so a link cannot start it), answered with a
// redirect to Plex's auth page.
export const POST: RequestHandler = async (event) => {
	const { request, locals, cookies } = event;
	const form = await readForm(request);
	const purpose = form.get('purpose');
	if (purpose !== 'login' && purpose !== 'link' && purpose !== 'setup')
		error(400, 'Unknown Plex sign-in purpose');
	const back = BACK[purpose];
	if (purpose === 'link' && (!locals.user || !locals.session)) redirect(303, '/login');
	// Linking adds a way in: the proof is checked here, before leaving for plex.tv.
	if (purpose === 'link' && locals.user && locals.session) {
		const proof = await requireStepUp(event, locals.user, locals.session, form);
		if (!proof.ok) redirect(303, `${back}?plex_error=step_up`);
	}
	if (purpose === 'setup' && locals.hasUsers) redirect(303, '/login?setup=done');
	if (purpose === 'login' && !(await plexLoginOffered(rpIdFor(locals.client.origin))))
		redirect(303, '/login?plex_error=plex_disabled');

	let pin;
	let clientId;
	try {
		clientId = await clientIdentifier();
		pin = await createPin(clientId);
	} catch (err) {
		if (!(err instanceof PlexUnavailable)) throw err;
		log.warn('Plex sign-in could not start', { reason: err.message, ip: locals.client.ip });
		redirect(303, `${back}?plex_error=plex_unavailable`);
	}
	// The PIN and who asked stay sealed in this browser; the callback URL names the flow, so that a
	// callback for another one (an older tab) is refused rather than finishing this one.
	const id = encodeBase32LowerCaseNoPadding(randomBytes(20));
	startFlow(cookies, locals.secureCookies, 'plex', {
		id,
		purpose,
		plexPinId: pin.id,
		plexPinCode: pin.code,
		userId: locals.user?.id ?? null,
		returnTo: safeReturnTo(
			typeof form.get('returnTo') === 'string' ? (form.get('returnTo') as string) : '/'
		)
	});
	const forwardUrl = `${locals.client.origin}${CALLBACK_PATH}?tx=${id}`;
	redirect(303, authUrl(clientId, pin.code, forwardUrl));
};
