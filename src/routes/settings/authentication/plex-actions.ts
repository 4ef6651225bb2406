// Settings → Authentication → Plex Connection: the toggle and unlink. Linking itself goes through
// POST /api/auth/plex/start (purpose=link), since its answer is a redirect to plex.tv.
import { fail, type RequestEvent } from '@sveltejs/kit';
import { readForm } from '$lib/server/form';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { setPlexLogin, unlinkPlex } from '$lib/server/auth/toggles';

const LAST_WAY =
	'Plex is your only way in, so this is refused. Set a local password or enable SSO first.';

export const plexActions = {
	togglePlex: async (event: RequestEvent) => {
		const { user } = requireUser(event);
		const enable = (await readForm(event.request)).get('enabled') === 'true';
		if (!user.plexId)
			return fail(409, { plex: { ok: false, message: 'Link a Plex account first.' } });
		if ((await setPlexLogin(user.id, enable)) === 'would-lock-out') {
			return fail(409, { plex: { ok: false, message: LAST_WAY } });
		}
		await audit({
			event: 'settings.plex_login',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { enabled: enable }
		});
		return { plex: { ok: true, message: enable ? 'Plex sign-in is on.' : 'Plex sign-in is off.' } };
	},

	unlinkPlex: async (event: RequestEvent) => {
		const { user } = requireUser(event);
		if (!user.plexId)
			return fail(409, { plex: { ok: false, message: 'No Plex account is linked.' } });
		if ((await unlinkPlex(user.id)) === 'would-lock-out') {
			return fail(409, { plex: { ok: false, message: LAST_WAY } });
		}
		await audit({ event: 'plex.unlinked', userId: user.id, ip: event.locals.client.ip });
		return { plex: { ok: true, message: 'Plex account unlinked.' } };
	}
};
