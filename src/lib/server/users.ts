// Reading and changing the "User" rows behind local sign-in and first-run setup, and ending a
// user's other sessions when a change to their ways in asks for it.
import type postgres from 'postgres';
import { sql } from './db';
import { issuerSpellings } from './rule/issuer';

/** The user a session resolves to (auth/session.ts reads it with the session, in one query). */
export type SessionUser = {
	id: number;
	username: string;
	email: string | null;
	localUsername: string | null;
	hasPassword: boolean;
	plexId: string | null;
	plexUsername: string | null;
	ssoSubject: string | null;
	ssoIssuer: string | null;
	ssoProvider: string | null;
	sessionVersion: number;
};

/** Taken by every way of creating the first user (setup, Plex setup, restore on the setup page). */
export const FIRST_USER_LOCK = 727_274_002; // arbitrary, fixed: "librariarr first-run setup"

/**
 * Creates the first user, or returns null when one already exists. Two setups racing each
 * other serialise on an advisory lock, so exactly one of them sees an empty table.
 */
export async function createFirstUser(input: {
	displayName: string;
	localUsername: string;
	passwordHash: string;
}): Promise<{ id: number } | null> {
	return sql.begin(async (tx) => {
		await tx`select pg_advisory_xact_lock(${FIRST_USER_LOCK})`;
		const [existing] = await tx`select 1 from "User" limit 1`;
		if (existing) return null;
		const [user] = await tx<{ id: number }[]>`
			insert into "User" (username, "localUsername", "passwordHash")
			values (${input.displayName}, ${input.localUsername}, ${input.passwordHash})
			returning id
		`;
		await tx`update "AppSettings" set "localAuthEnabled" = true, "updatedAt" = now() where id = 1`;
		return user;
	});
}

/** False until first-run setup (or a restore) has created the first user. */
export async function hasAnyUser(): Promise<boolean> {
	const [row] = await sql<{ any: boolean }[]>`select exists (select 1 from "User") as any`;
	return row.any;
}

/** The user's sign-in fields as stored now (a form action may have just changed them). */
export async function getSignInFields(userId: number) {
	const [row] = await sql<
		Pick<
			SessionUser,
			| 'localUsername'
			| 'hasPassword'
			| 'plexId'
			| 'plexUsername'
			| 'ssoSubject'
			| 'ssoIssuer'
			| 'ssoProvider'
		>[]
	>`
		select "localUsername", "passwordHash" is not null as "hasPassword", "plexId", "plexUsername",
			"ssoSubject", "ssoIssuer", "ssoProvider"
		from "User" where id = ${userId}
	`;
	return row;
}

export async function getPasswordHash(userId: number): Promise<string | null> {
	const [row] = await sql<{ passwordHash: string | null }[]>`
		select "passwordHash" from "User" where id = ${userId}
	`;
	return row?.passwordHash ?? null;
}

/** A re-made hash of the same password (new parameters): sessions stay, nothing else changes. */
export function passwordHashUpdate(userId: number, passwordHash: string) {
	return sql`update "User" set "passwordHash" = ${passwordHash}, "updatedAt" = now() where id = ${userId}`;
}

export class UsernameTakenError extends Error {}

/**
 * Sets the local username and, when given, a new password. A new password bumps the user's
 * "sessionVersion", which ends every session of theirs on every instance; the session making
 * the change is carried over to the new version so its owner stays signed in.
 */
/**
 * Saves the local username and, when given, a new password. A new password also ends every other
 * session and voids the unused recovery codes (a code made while someone else knew the old
 * password must not outlive it); returns how many codes it voided.
 */
export async function updateCredentials(
	userId: number,
	currentSessionId: string,
	change: { localUsername: string; passwordHash: string | null }
): Promise<{ recoveryCodesVoided: number }> {
	try {
		return await sql.begin(async (tx) => {
			if (!change.passwordHash) {
				await tx`
					update "User" set "localUsername" = ${change.localUsername}, "updatedAt" = now()
					where id = ${userId}
				`;
				return { recoveryCodesVoided: 0 };
			}
			const [user] = await tx<{ sessionVersion: number }[]>`
				update "User"
				set "localUsername" = ${change.localUsername}, "passwordHash" = ${change.passwordHash},
					"sessionVersion" = "sessionVersion" + 1, "updatedAt" = now()
				where id = ${userId}
				returning "sessionVersion"
			`;
			await tx`
				update "Session" set "sessionVersion" = ${user.sessionVersion}
				where id = ${currentSessionId} and "userId" = ${userId}
			`;
			await invalidateOtherSessions(userId, currentSessionId, tx);
			const voided = await tx`
				delete from "RecoveryCode" where "userId" = ${userId} and "usedAt" is null returning id
			`;
			return { recoveryCodesVoided: voided.length };
		});
	} catch (error) {
		if ((error as { code?: string }).code === '23505') throw new UsernameTakenError();
		throw error;
	}
}

export async function findUserBySsoIdentity(
	provider: 'oidc' | 'forward-auth',
	issuer: string,
	subject: string
) {
	const candidates = issuerSpellings(issuer);
	const [user] = await sql<{ id: number }[]>`
		select id from "User"
		where "ssoProvider" = ${provider} and "ssoSubject" = ${subject} and "ssoIssuer" in ${sql(candidates)}
	`;
	return user ?? null;
}

/**
 * Ends every session of the user except `keepSessionId` (the one making the change). Pass the
 * transaction when the change it belongs to runs in one.
 */
export async function invalidateOtherSessions(
	userId: number,
	keepSessionId: string | null,
	db: postgres.Sql | postgres.TransactionSql = sql
) {
	await db`delete from "Session" where "userId" = ${userId} and id is distinct from ${keepSessionId}`;
}
