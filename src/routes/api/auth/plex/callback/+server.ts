import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { opaqueToken } from '$lib/schemas/fields';
import { audit, auditFailure } from '$lib/server/audit';
import { safeReturnTo } from '$lib/server/auth/redirect';
import { signIn } from '$lib/server/auth/sign-in';
import {
	clientIdentifier,
	pinToken,
	plexAccount,
	PlexUnavailable,
	type PlexAccount
} from '$lib/server/auth/sources/plex';
import { takeFlow } from '$lib/server/auth/sign-in-flows';
import { useFlowOnce } from '$lib/server/auth/used-flows';
import { log } from '$lib/server/log';
import { rpIdFor } from '$lib/server/auth/passkeys';
import {
	createFirstUserFromPlex,
	findUserByPlexId,
	linkPlex,
	PlexLinkConflict,
	plexLoginOffered,
	refreshPlexAccount
} from '$lib/server/plex';
import type { RequestHandler } from './$types';

const BACK = { login: '/login', link: '/settings/authentication', setup: '/setup' } as const;

// Plex's auth page sends the browser back here after the user approved (or not) our PIN.
export const GET: RequestHandler = async (event) => {
	const { url, locals, cookies } = event;
	const ip = locals.client.ip;
	const id = url.searchParams.get('tx');
	const tx = v.is(opaqueToken, id)
		? takeFlow(cookies, locals.secureCookies, 'plex', (flow) => flow.id === id)
		: null;
	if (!tx) {
		log.warn('Plex callback refused: unknown, used, expired or foreign transaction', { ip });
		await auditFailure({
			event: 'login.failed',
			method: 'plex',
			ip,
			detail: { reason: 'plex_expired' }
		});
		redirect(303, `${locals.user ? BACK.link : BACK.login}?plex_error=plex_expired`);
	}
	const purpose = tx.purpose;
	const back = BACK[purpose];
	/**
	 * Logs and audits a refusal (a row when it names a user, else a count: audit.ts); the caller
	 * redirects to the URL it returns.
	 */
	const refusal = async (code: string, reason: string): Promise<string> => {
		log.warn('Plex sign-in failed', { purpose, code, reason, ip });
		await auditFailure({
			event: purpose === 'link' ? 'plex.link_failed' : 'login.failed',
			method: 'plex',
			ip,
			userId: tx.userId,
			detail: { reason: code }
		});
		return `${back}?plex_error=${code}`;
	};

	// Only the two plex.tv calls are inside the `try`, and it only records what happened: every
	// redirect is thrown outside it, so no `catch` can ever swallow or reword one.
	const clientId = await clientIdentifier();
	let answer: { token: string | null; account?: PlexAccount } | { unavailable: string };
	try {
		const token = await pinToken(clientId, tx.plexPinId!);
		answer = { token, account: token ? await plexAccount(clientId, token) : undefined };
	} catch (error) {
		if (!(error instanceof PlexUnavailable)) throw error;
		answer = { unavailable: error.message };
	}
	if ('unavailable' in answer) redirect(303, await refusal('plex_unavailable', answer.unavailable));
	const { token, account } = answer;
	if (!token || !account) redirect(303, await refusal('plex_denied', 'the PIN has no token'));
	// Recorded only now that Plex vouched for the PIN: a stranger's callbacks write nothing here.
	if (!(await useFlowOnce('plex', tx.id, tx.expiresAt)))
		redirect(303, await refusal('plex_expired', 'the sign-in was already used'));

	if (purpose === 'link') {
		if (!locals.user || locals.user.id !== tx.userId)
			redirect(303, await refusal('plex_expired', 'another user finished the link'));
		let conflict = false;
		try {
			await linkPlex(locals.user.id, account, token);
		} catch (error) {
			if (!(error instanceof PlexLinkConflict)) throw error;
			conflict = true;
		}
		if (conflict) {
			redirect(
				303,
				await refusal('plex_already_linked', `Plex account ${account.id} is linked to someone else`)
			);
		}
		await audit({
			event: 'plex.linked',
			userId: locals.user.id,
			method: 'plex',
			ip,
			detail: { plexUsername: account.username }
		});
		redirect(303, `${BACK.link}?plex_linked=1#plex`);
	}

	let userId: number;
	if (purpose === 'setup') {
		const user = await createFirstUserFromPlex(account, token);
		if (!user) {
			log.warn('Plex setup refused: a user already exists', { ip });
			redirect(303, '/login?setup=done');
		}
		userId = user.id;
		await audit({
			event: 'setup.completed',
			userId,
			method: 'plex',
			ip,
			detail: { plexUsername: account.username }
		});
	} else {
		const user = await findUserByPlexId(account.id);
		if (!user) {
			redirect(
				303,
				await refusal(
					'plex_not_linked',
					`Plex account ${account.id} (${account.username}) is not linked`
				)
			);
		}
		if (!(await plexLoginOffered(rpIdFor(locals.client.origin))))
			redirect(303, await refusal('plex_disabled', 'Plex login is turned off'));
		await refreshPlexAccount(user.id, account, token);
		userId = user.id;
	}
	await signIn(event, userId, 'plex');
	redirect(303, safeReturnTo(tx.returnTo));
};
