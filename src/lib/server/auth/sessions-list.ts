// The signed-in user's own sessions, as Settings → Security lists them, and signing them out.
//
// Model: a session is named to the browser only by its "publicId", a random UUID that
// authenticates nothing; the primary key (the SHA-256 of the cookie's token) never leaves the
// server. Every sign-out by public id also requires the session to belong to the user asking,
// so a guessed or copied id of someone else's session ends nothing.
import { sql } from '../db';
import { describeUserAgent } from '../user-agent';
import type { LoginMethod } from './session';
import { sessionLive } from './session-policy';

/** A user's live sessions shown at most; more than this many browsers is not a real setup. */
export const MAX_LISTED_SESSIONS = 100;

export type SessionEntry = {
	publicId: string;
	method: LoginMethod;
	browser: string;
	system: string;
	ip: string | null;
	createdAt: Date;
	lastSeenAt: Date;
	current: boolean;
};

/**
 * Live sessions (not ended, also under the current session policy, of the user's current
 * version), the current one first.
 */
export async function listSessions(userId: number, currentSessionId: string) {
	const rows = await sql<
		{
			publicId: string;
			method: LoginMethod;
			userAgent: string | null;
			ip: string | null;
			createdAt: Date;
			lastSeenAt: Date;
			current: boolean;
		}[]
	>`
		select s."publicId", s.method, s."userAgent", s.ip, s."createdAt", s."lastSeenAt",
			s.id = ${currentSessionId} as current
		from "Session" s
		join "User" u on u.id = s."userId" and u."sessionVersion" = s."sessionVersion"
		join "AppSettings" a on a.id = 1
		where s."userId" = ${userId} and ${sessionLive()}
		order by s.id = ${currentSessionId} desc, s."lastSeenAt" desc, s."createdAt" desc
		limit ${MAX_LISTED_SESSIONS}
	`;
	return rows.map(({ userAgent, ...row }): SessionEntry => ({
		...row,
		...describeUserAgent(userAgent)
	}));
}

export type RevokeResult = 'revoked' | 'current' | 'not_found';

/**
 * Ends one of the user's sessions by its public id. The current session is not ended here
 * (that is what Sign out is for); an id that is not one of the user's sessions changes nothing.
 */
export async function revokeSession(
	userId: number,
	currentSessionId: string,
	publicId: string
): Promise<RevokeResult> {
	const [row] = await sql<{ current: boolean; deleted: number }[]>`
		with target as (
			select id from "Session" where "publicId" = ${publicId} and "userId" = ${userId}
		), deleted as (
			delete from "Session" where id in (select id from target) and id <> ${currentSessionId}
			returning id
		)
		select exists (select 1 from target where id = ${currentSessionId}) as current,
			(select count(*) from deleted)::int as deleted
	`;
	if (row.current) return 'current';
	return row.deleted > 0 ? 'revoked' : 'not_found';
}

/** Ends every session of the user but the current one; returns how many live ones ended. */
export async function revokeOtherSessions(userId: number, currentSessionId: string) {
	const rows = await sql<{ live: boolean }[]>`
		delete from "Session" s using "AppSettings" a
		where a.id = 1 and s."userId" = ${userId} and s.id <> ${currentSessionId}
		returning ${sessionLive()} as live
	`;
	return rows.filter((r) => r.live).length;
}
