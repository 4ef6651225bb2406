// Switching password, Plex and passkey sign-in on and off, and unlinking Plex. Each change is one
// transaction that locks the settings row and reads the rule's inputs inside it
// (rule/inputs.ts) and asks the rule before writing: two browser tabs cannot combine two changes
// that are each allowed into a lock-out, because the second waits for the first and then sees it.
// Only passkeys made for `rpId`, the host of the current public origin, count.
import { sql } from '../db';
import {
	loadRuleInputs,
	WOULD_LOCK_OUT,
	wouldLockOut,
	type LockOutRefusal,
	type RuleInputs
} from '../rule/inputs';

export type ChangeResult = { ok: true } | LockOutRefusal;
const CHANGED = { ok: true } as const;

/** The inputs with some settings changed. */
const withSettings = (inputs: RuleInputs, change: Partial<RuleInputs['settings']>) => ({
	...inputs,
	settings: { ...inputs.settings, ...change }
});

export async function setLocalLogin(
	userId: number,
	enable: boolean,
	rpId: string
): Promise<ChangeResult> {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		if (!enable && wouldLockOut(withSettings(inputs, { localAuthEnabled: false })))
			return WOULD_LOCK_OUT;
		await tx`update "AppSettings" set "localAuthEnabled" = ${enable}, "updatedAt" = now() where id = 1`;
		return CHANGED;
	});
}

export async function setPlexLogin(
	userId: number,
	enable: boolean,
	rpId: string
): Promise<ChangeResult> {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		if (!enable && wouldLockOut(withSettings(inputs, { plexLoginEnabled: false })))
			return WOULD_LOCK_OUT;
		await tx`update "AppSettings" set "plexLoginEnabled" = ${enable}, "updatedAt" = now() where id = 1`;
		return CHANGED;
	});
}

/** "Allow passkey sign-in": switching it off is refused when passkeys are the last way in. */
export async function setPasskeyLogin(
	userId: number,
	enable: boolean,
	rpId: string
): Promise<ChangeResult> {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		if (!enable && wouldLockOut(withSettings(inputs, { passkeyLoginEnabled: false })))
			return WOULD_LOCK_OUT;
		await tx`update "AppSettings" set "passkeyLoginEnabled" = ${enable}, "updatedAt" = now() where id = 1`;
		return CHANGED;
	});
}

/** Unlinks the user's Plex account; with nobody linked any more, Plex login goes off too. */
export async function unlinkPlex(userId: number, rpId: string): Promise<ChangeResult> {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		const unlinked = withSettings(inputs, { plexLoginEnabled: false });
		if (wouldLockOut({ ...unlinked, account: { ...inputs.account!, hasPlex: false } }))
			return WOULD_LOCK_OUT;
		await tx`
			update "User" set "plexId" = null, "plexUsername" = null, "plexToken" = null, "updatedAt" = now()
			where id = ${userId}
		`;
		// With nobody linked, an enabled Plex login would only be a dead button.
		await tx`
			update "AppSettings" set "plexLoginEnabled" = false, "updatedAt" = now()
			where id = 1 and not exists (select 1 from "User" where "plexId" is not null)
		`;
		return CHANGED;
	});
}
