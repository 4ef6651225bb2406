// Settings → Security, passkeys: what the card shows, and renaming, deleting and the "Allow
// passkey sign-in" switch (plain form actions, so they work without JavaScript). Adding a
// passkey needs the browser's WebAuthn API and goes through ./passkeys/{options,register}.
import { fail, type RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import { audit } from '$lib/server/audit';
import { readForm } from '$lib/server/form';
import { requireUser } from '$lib/server/auth/guard';
import {
	deletePasskey,
	listPasskeys,
	passkeyLoginEnabled,
	renamePasskey,
	rpIdFor
} from '$lib/server/auth/passkeys';
import { passkeyHost, passkeyHostWords } from '$lib/server/auth/passkey-host';
import { setPasskeyLogin } from '$lib/server/auth/toggles';
import { config } from '$lib/server/config';
import { passkeyId, passkeyName } from '$lib/schemas/passkey';

type Event = RequestEvent;

export async function loadPasskeys(event: Pick<Event, 'locals'>) {
	const { user } = requireUser(event);
	const rpId = rpIdFor(event.locals.client.origin);
	const [list, loginEnabled] = await Promise.all([listPasskeys(user.id), passkeyLoginEnabled()]);
	const where = passkeyHost(event.locals.client.origin, config.origin);
	return {
		rpId,
		// At an IP address browsers refuse passkeys: the card says so and cannot add one.
		hostProblem: where.usable ? null : passkeyHostWords(where),
		loginEnabled,
		list: list.map((p) => ({
			id: p.id,
			name: p.name,
			rpId: p.rpId,
			otherHost: p.rpId !== rpId,
			createdAt: p.createdAt.toISOString(),
			lastUsedAt: p.lastUsedAt?.toISOString() ?? null
		}))
	};
}

const renameFields = v.object({ passkey: passkeyId, name: passkeyName });
const deleteFields = v.object({ passkey: passkeyId });

const refuse = (status: number, message: string) =>
	fail(status, { passkeys: { ok: false, message } });

export const passkeyActions = {
	renamePasskey: async (event: Event) => {
		const { user } = requireUser(event);
		const parsed = v.safeParse(renameFields, Object.fromEntries(await readForm(event.request)));
		if (!parsed.success) return refuse(400, parsed.issues[0].message);
		if (!(await renamePasskey(user.id, parsed.output.passkey, parsed.output.name))) {
			return refuse(404, 'That passkey is no longer registered.');
		}
		await audit({
			event: 'settings.passkey_renamed',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { name: parsed.output.name }
		});
		return { passkeys: { ok: true, message: `Renamed to “${parsed.output.name}”.` } };
	},

	deletePasskey: async (event: Event) => {
		const { user, session } = requireUser(event);
		const form = await readForm(event.request);
		const parsed = v.safeParse(deleteFields, { passkey: form.get('passkey') });
		if (!parsed.success) return refuse(400, parsed.issues[0].message);
		const deleted = await deletePasskey(
			user.id,
			parsed.output.passkey,
			rpIdFor(event.locals.client.origin),
			{ currentSessionId: session.id, signOutOthers: form.get('signOutOthers') === 'on' }
		);
		if (!deleted.ok && deleted.reason === 'not-found')
			return refuse(404, 'That passkey is no longer registered.');
		if (!deleted.ok && deleted.reason === 'sso-mfa-lock-out')
			return refuse(
				409,
				'This passkey stays: two-factor is required for SSO sign-ins, and without it your SSO sign-ins would be refused (your provider did not show a second factor and the authenticator app is off). Turn the authenticator app on, or turn “Require two-factor for SSO sign-ins” off in Settings → Authentication, first.'
			);
		if (!deleted.ok) {
			return refuse(
				409,
				'This passkey is your only way in, so it stays. Turn on another way to sign in first.'
			);
		}
		await audit({
			event: 'settings.passkey_deleted',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { sessionsEnded: deleted.sessionsEnded }
		});
		const ended = deleted.sessionsEnded;
		return {
			passkeys: {
				ok: true,
				message:
					'The passkey was deleted.' +
					(ended ? ` Signed out ${ended} other session${ended === 1 ? '' : 's'}.` : '')
			}
		};
	},

	togglePasskeyLogin: async (event: Event) => {
		const { user } = requireUser(event);
		const enable = (await readForm(event.request)).get('enabled') === 'true';
		if (!(await setPasskeyLogin(user.id, enable, rpIdFor(event.locals.client.origin))).ok) {
			return refuse(
				409,
				'Passkeys are your only way in, so passkey sign-in stays on. Turn on another way to sign in first.'
			);
		}
		await audit({
			event: 'settings.passkey_login',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { enabled: enable }
		});
		return {
			passkeys: {
				ok: true,
				message: enable ? 'Passkey sign-in is on.' : 'Passkey sign-in is off.'
			}
		};
	}
};
