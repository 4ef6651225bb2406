// Step 1 of the SSO settings: saving the connection with its one-step undo snapshot, and reverting
// to it. Each is one transaction that locks the settings row and asks the one rule first.
import { sql } from '../db';
import { seal } from '../crypto';
import {
	fallbackOnceSsoIsOff,
	loadRuleInputs,
	WOULD_LOCK_OUT,
	type LockOutRefusal
} from '../rule/inputs';
import { identityFits } from '../rule/linked';
import { NOTHING, type Reenable } from '../rule/ways-in';
import {
	CLIENT_AUTH_KEYS,
	CONNECTION_KEYS,
	OBSERVED_KEYS,
	type Connection,
	type ConnectionInput
} from './config';

/**
 * Saves step 1. When any connection setting changed, the previous ones become the snapshot that
 * "Revert to Previous" restores, and the configuration version moves on (every instance drops its
 * cached discovery document). If SSO was on and the linked identity no longer fits the new mode
 * or issuer, SSO is switched off: it would otherwise hide the other methods behind a dead button.
 */
/** `rpId`: the current host; only passkeys made for it count as a way in (toggles.ts). */
export async function saveConnection(input: ConnectionInput, userId: number, rpId: string) {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		const [current] = await tx`select * from "AppSettings" where id = 1`;
		const next: Connection = {
			oidcIssuer: input.oidcIssuer,
			oidcClientId: input.oidcClientId,
			oidcClientSecret:
				input.clientSecret === undefined
					? current.oidcClientSecret
					: input.clientSecret === null
						? null
						: seal(input.clientSecret),
			oidcClientAuthMethod: input.oidcClientAuthMethod,
			oidcScopes: input.oidcScopes,
			oidcUsernameClaim: input.oidcUsernameClaim,
			forwardAuthUserHeader: input.forwardAuthUserHeader,
			forwardAuthEmailHeader: input.forwardAuthEmailHeader,
			forwardAuthNameHeader: input.forwardAuthNameHeader,
			forwardAuthLogoutUrl: input.forwardAuthLogoutUrl
		};
		const changed = CONNECTION_KEYS.filter(
			(k) =>
				current[k] !== next[k] && !(k === 'oidcClientSecret' && input.clientSecret === undefined)
		) as string[];
		const modeChanged = current.ssoMode !== input.ssoMode;
		if (!changed.length && !modeChanged)
			return { ok: true, changed: [], ssoSwitchedOff: false, reenabled: NOTHING } as const;

		const snapshot = changed.length
			? Object.fromEntries(CONNECTION_KEYS.map((k) => [k, current[k]]))
			: null;
		const stillLinked = identityFits(inputs.account!, input.ssoMode, input.oidcIssuer);
		const ssoSwitchedOff = current.ssoEnabled && !stillLinked;
		const reenable = ssoSwitchedOff ? fallbackOnceSsoIsOff(inputs) : NOTHING;
		if (!reenable) return WOULD_LOCK_OUT;
		await tx`
			update "AppSettings" set
				"ssoMode" = ${input.ssoMode},
				${tx(next, ...CONNECTION_KEYS)},
				"previousSsoConfig" = ${snapshot ? tx.json(snapshot) : tx`"previousSsoConfig"`},
				"ssoEnabled" = ${ssoSwitchedOff ? false : current.ssoEnabled},
				"localAuthEnabled" = "localAuthEnabled" or ${reenable.local},
				"plexLoginEnabled" = "plexLoginEnabled" or ${reenable.plex},
				"ssoConfigVersion" = "ssoConfigVersion" + 1,
				${changed.some((k) => CLIENT_AUTH_KEYS.includes(k)) ? tx`"oidcClientAuthLearnt" = null,` : tx``}
				${changed.some((k) => OBSERVED_KEYS.includes(k)) ? tx`"oidcSeenIssuer" = null, "oidcSeenClientId" = null, "oidcSeenIdTokenAlg" = null, "oidcSeenUsernameClaim" = null, "oidcSeenUsernameClaimFrom" = null,` : tx``}
				"updatedAt" = now()
			where id = 1
		`;
		return {
			ok: true,
			changed: modeChanged ? [...changed, 'ssoMode'] : changed,
			ssoSwitchedOff,
			reenabled: reenable
		};
	});
}

/**
 * Restores the snapshot, forces SSO off, moves the configuration version on, clears the snapshot.
 * Refused when there is no snapshot, or when SSO is on and the user would have no other way in.
 */
export async function revertConnection(
	userId: number,
	rpId: string
): Promise<
	{ ok: true; reenable: Reenable } | { ok: false; reason: 'no-previous' } | LockOutRefusal
> {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		const [row] = await tx`select "previousSsoConfig" from "AppSettings" where id = 1`;
		const previous = row.previousSsoConfig as Partial<Connection> | null;
		if (!previous) return { ok: false, reason: 'no-previous' };
		const reenable = inputs.settings.ssoEnabled ? fallbackOnceSsoIsOff(inputs) : NOTHING;
		if (!reenable) return WOULD_LOCK_OUT;
		const keys = CONNECTION_KEYS.filter((k) => k in previous);
		if (keys.length) {
			await tx`update "AppSettings" set ${tx(previous as Record<string, unknown>, ...keys)} where id = 1`;
		}
		await tx`
			update "AppSettings" set
				"ssoEnabled" = false,
				"localAuthEnabled" = "localAuthEnabled" or ${reenable.local},
				"plexLoginEnabled" = "plexLoginEnabled" or ${reenable.plex},
				"previousSsoConfig" = null,
				"oidcClientAuthLearnt" = null,
				"ssoConfigVersion" = "ssoConfigVersion" + 1,
				"updatedAt" = now()
			where id = 1
		`;
		return { ok: true, reenable };
	});
}
