import { error, fail } from '@sveltejs/kit';
import { confirmNotMe, findNotMe, PAUSE_WORDS } from '$lib/server/auth/not-me';
import { rpIdFor } from '$lib/server/auth/passkeys';
import type { Actions, PageServerLoad } from './$types';

// The "Not me" link of an alert (auth/not-me.ts). Works signed out: the alert may be read on
// another device. GET only reads (chat apps open links to preview them); the form's POST acts.
const GONE =
	'This "Not me" link is not valid: it was already used, it is older than 24 hours, or it never existed. Nothing was changed.';

export const load: PageServerLoad = async ({ params, request }) => {
	const link = await findNotMe(params.token);
	if (link.state === 'gone') {
		// After the form's POST the link is used: the action's answer is the page.
		if (request.method === 'POST') return { method: null, signedInAt: null, ip: null };
		error(404, GONE);
	}
	return {
		method: PAUSE_WORDS[link.key],
		signedInAt: link.signedInAt.toISOString(),
		ip: link.ip
	};
};

export const actions = {
	default: async ({ params, locals }) => {
		const outcome = await confirmNotMe(
			params.token,
			rpIdFor(locals.client.origin),
			locals.client.ip
		);
		if (outcome.state === 'gone') return fail(410, { done: false, message: GONE });
		const what = PAUSE_WORDS[outcome.key];
		return {
			done: true,
			paused: outcome.paused,
			message: outcome.paused
				? `That session has ended. ${what} is paused for this account until you sign in another way.`
				: `That session has ended. ${what} was not paused: it is the only way left to sign in to this account, and pausing it would lock you out. Change that password or sign-in method now.`
		};
	}
} satisfies Actions;
