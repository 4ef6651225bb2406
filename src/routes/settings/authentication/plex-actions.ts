// Settings → Authentication → Plex Connection: the toggle and unlink. Linking itself goes through
// POST /api/auth/plex/start (purpose=link), since its answer is a redirect to plex.tv.
import { rpIdFor } from '$lib/server/auth/passkeys';
import { fail, type RequestEvent } from '@sveltejs/kit';
import { readForm } from '$lib/server/form';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { requireStepUp } from '$lib/server/auth/step-up';
import { setPlexLogin, unlinkPlex } from '$lib/server/auth/toggles';

const LAST_WAY =
	'Plex is your only way in, so this is refused. Set a local password or enable SSO first.';

export const plexActions = {
	togglePlex: async (event: RequestEvent) => {
		const { user, session } = requireUser(event);
		const form = await readForm(event.request);
		const enable = form.get('enabled') === 'true';
		if (!user.plexId)
			return fail(409, { plex: { ok: false, message: 'Link a Plex account first.' } });
		// Switching Plex sign-in on adds a way in; switching it off does not.
		if (enable) {
			const proof = await requireStepUp(event, user, session, form);
			if (!proof.ok) {
				return fail(proof.status, {
					plex: { ok: false, message: proof.message },
					stepUp: { message: proof.message, field: proof.field }
				});
			}
		}
		if (!(await setPlexLogin(user.id, enable, rpIdFor(event.locals.client.origin))).ok) {
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
		if (!(await unlinkPlex(user.id, rpIdFor(event.locals.client.origin))).ok) {
			return fail(409, { plex: { ok: false, message: LAST_WAY } });
		}
		await audit({ event: 'plex.unlinked', userId: user.id, ip: event.locals.client.ip });
		return { plex: { ok: true, message: 'Plex account unlinked.' } };
	}
};
