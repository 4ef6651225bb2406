// Settings → Authentication → Plex Connection: the toggle and unlink. Linking itself goes through
// POST /api/auth/plex/start (purpose=link), since its answer is a redirect to plex.tv.
import { fail, type RequestEvent } from '@sveltejs/kit';
import { readForm } from '$lib/server/form';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { locksOut, loginStateOf } from '$lib/server/auth/lockout';
import { config } from '$lib/server/config';
import { sql } from '$lib/server/db';
import { getSettings } from '$lib/server/settings';
import { unlinkPlex } from '$lib/server/plex';
import type { SessionUser } from '$lib/server/auth/session';

async function state(user: SessionUser) {
	return loginStateOf(user, await getSettings(), config.ssoDisableOverride);
}

const LAST_WAY =
	'Plex is your only way in, so this is refused. Set a local password or enable SSO first.';

export const plexActions = {
	togglePlex: async (event: RequestEvent) => {
		const { user } = requireUser(event);
		const enable = (await readForm(event.request)).get('enabled') === 'true';
		if (!user.plexId)
			return fail(409, { plex: { ok: false, message: 'Link a Plex account first.' } });
		if (!enable && locksOut({ ...(await state(user)), plexLoginEnabled: false })) {
			return fail(409, { plex: { ok: false, message: LAST_WAY } });
		}
		await sql`update "AppSettings" set "plexLoginEnabled" = ${enable}, "updatedAt" = now() where id = 1`;
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
		if (locksOut({ ...(await state(user)), hasPlex: false, plexLoginEnabled: false })) {
			return fail(409, { plex: { ok: false, message: LAST_WAY } });
		}
		await unlinkPlex(user.id);
		await audit({ event: 'plex.unlinked', userId: user.id, ip: event.locals.client.ip });
		return { plex: { ok: true, message: 'Plex account unlinked.' } };
	}
};
