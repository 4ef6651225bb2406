// Switching password and Plex sign-in on and off, and unlinking Plex. Each change is one
// transaction that locks the settings row first, reads the user inside it and asks the one rule
// (lockout.ts → plain/ways-in.js) before writing: two browser tabs cannot combine two changes
// that are each allowed into a lock-out, because the second waits for the first and then sees it.
import type postgres from 'postgres';
import { config } from '../config';
import { sql } from '../db';
import { locksOut, loginStateOf, type LoginState } from './lockout';

export type ChangeResult = 'changed' | 'would-lock-out';

/**
 * The settings row (locked until the transaction ends) and the user, as the rule sees them.
 * Every change of auth state starts with this (passkeys.ts too). Only passkeys made for `rpId`,
 * the host of the current public origin, count: a passkey works only under the host it was
 * made for, so one made under an old host or ORIGIN is no way in here.
 */
export async function lockedState(
	tx: postgres.TransactionSql,
	userId: number,
	rpId: string
): Promise<LoginState> {
	const [settings] = await tx<
		{
			localAuthEnabled: boolean;
			plexLoginEnabled: boolean;
			ssoEnabled: boolean;
			passkeyLoginEnabled: boolean;
		}[]
	>`
		select "localAuthEnabled", "plexLoginEnabled", "ssoEnabled", "passkeyLoginEnabled"
		from "AppSettings" where id = 1 for update
	`;
	const [user] = await tx<
		{ hasPassword: boolean; plexId: string | null; ssoSubject: string | null; passkeys: number }[]
	>`
		select "passwordHash" is not null as "hasPassword", "plexId", "ssoSubject",
			(select count(*)::int from "Passkey" p where p."userId" = u.id and p."rpId" = ${rpId}) as passkeys
		from "User" u where id = ${userId}
	`;
	return loginStateOf(user, settings, config.ssoDisableOverride);
}

export async function setLocalLogin(
	userId: number,
	enable: boolean,
	rpId: string
): Promise<ChangeResult> {
	return sql.begin(async (tx) => {
		const state = await lockedState(tx, userId, rpId);
		if (!enable && locksOut({ ...state, localAuthEnabled: false })) return 'would-lock-out';
		await tx`update "AppSettings" set "localAuthEnabled" = ${enable}, "updatedAt" = now() where id = 1`;
		return 'changed';
	});
}

export async function setPlexLogin(
	userId: number,
	enable: boolean,
	rpId: string
): Promise<ChangeResult> {
	return sql.begin(async (tx) => {
		const state = await lockedState(tx, userId, rpId);
		if (!enable && locksOut({ ...state, plexLoginEnabled: false })) return 'would-lock-out';
		await tx`update "AppSettings" set "plexLoginEnabled" = ${enable}, "updatedAt" = now() where id = 1`;
		return 'changed';
	});
}

/** "Allow passkey sign-in": switching it off is refused when passkeys are the last way in. */
export async function setPasskeyLogin(
	userId: number,
	enable: boolean,
	rpId: string
): Promise<ChangeResult> {
	return sql.begin(async (tx) => {
		const state = await lockedState(tx, userId, rpId);
		if (!enable && locksOut({ ...state, passkeyLoginEnabled: false })) return 'would-lock-out';
		await tx`update "AppSettings" set "passkeyLoginEnabled" = ${enable}, "updatedAt" = now() where id = 1`;
		return 'changed';
	});
}

/** Unlinks the user's Plex account; with nobody linked any more, Plex login goes off too. */
export async function unlinkPlex(userId: number, rpId: string): Promise<ChangeResult> {
	return sql.begin(async (tx) => {
		const state = await lockedState(tx, userId, rpId);
		if (locksOut({ ...state, hasPlex: false, plexLoginEnabled: false })) return 'would-lock-out';
		await tx`
			update "User" set "plexId" = null, "plexUsername" = null, "plexToken" = null, "updatedAt" = now()
			where id = ${userId}
		`;
		// With nobody linked, an enabled Plex login would only be a dead button.
		await tx`
			update "AppSettings" set "plexLoginEnabled" = false, "updatedAt" = now()
			where id = 1 and not exists (select 1 from "User" where "plexId" is not null)
		`;
		return 'changed';
	});
}
