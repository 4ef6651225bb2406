// Server-side sessions, after the Lucia recipe.
//
// The cookie holds a random token; the database holds only its SHA-256, so a leaked table
// cannot be replayed. A session is valid while it has not expired and its "sessionVersion"
// equals the user's: bumping the user's version (password change, recovery SQL) ends every
// session at once. Resolving a request is one SQL round trip and writes nothing, except one
// write back at most once an hour per session: it records "last seen" (so it is exact to the
// hour) and moves the stored expiry in the same statement. How long a session lasts is the
// admin's session policy (session-policy.ts), read in that same round trip from the settings row,
// so a shorter policy ends older sessions at their next request.
//
// CSRF: the cookie is SameSite=Lax and every write must pass the Origin check in the `client`
// handle, so a cookie alone never authorises a cross-site POST.
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import type { Cookies } from '@sveltejs/kit';
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import { alongside, commitWithoutFlush, sql } from '../db';
import type { SessionUser } from '../users';
import { sessionEndsAt, sessionLive } from './session-policy';

export type { SessionUser };

export const SESSION_COOKIE = 'librariarr_session';
/** "Last seen" is written back at most this often per session, and is exact to this much. */
export const LAST_SEEN_PRECISION_MS = 60 * 60 * 1000;

export type LoginMethod = 'local' | 'plex' | 'oidc' | 'forward-auth' | 'recovery-code' | 'passkey';

export type Session = {
	id: string;
	userId: number;
	method: LoginMethod;
	ssoSubject: string | null;
	createdAt: Date;
	expiresAt: Date;
	/** "Keep me signed in" was checked: a lasting cookie (false: a browser-session cookie, 12 hours). */
	keepSignedIn: boolean;
	/** Display name and email from the identity provider or proxy, for SSO sessions. */
	displayName: string | null;
	email: string | null;
	/**
	 * For an OIDC session while "Also sign out at the identity provider" is on: the configured
	 * issuer, whose end-session endpoint signing out may lead to (the CSP must allow it).
	 */
	rpLogoutIssuer: string | null;
};

export type Resolved = {
	hasUsers: boolean;
	session: Session | null;
	user: SessionUser | null;
	/** The expiry moved forward on this request: the cookie must be sent again. */
	renewed: boolean;
	/** The configured forward-auth user header, for checking forward-auth sessions. */
	forwardUserHeader: string;
};

export function generateSessionToken(): string {
	const bytes = new Uint8Array(20);
	crypto.getRandomValues(bytes);
	return encodeBase32LowerCaseNoPadding(bytes);
}

export function sessionIdFromToken(token: string): string {
	return createHash('sha256').update(token).digest('hex');
}

/** A gate's verdict inside a sign-in's statement: its last expression, `accepted`, has a row. */
export const accepted = () => sql`exists (select 1 from accepted)`;

/** The writes as common table expressions after the gate's, or as alongside() makes them. */
function withWrites(writes: postgres.Fragment[], gate?: postgres.Fragment) {
	if (!gate) return alongside(writes);
	const named = writes.map((write, i) => sql`, ${sql(`write${i}`)} as (${write})`);
	return sql`with ${gate}${named.reduce((all, one) => sql`${all}${one}`, sql``)}`;
}

/**
 * Creates the session (with `writes` in the same statement). With a `gate` (sign-in.ts), only
 * when the gate accepts; null when it did not.
 */
export async function createSession(
	userId: number,
	method: LoginMethod,
	meta: {
		ip?: string | null;
		userAgent?: string | null;
		ssoSubject?: string | null;
		displayName?: string | null;
		email?: string | null;
		/** For OIDC sessions: the ID token, already sealed, its `sid` and the issuer. */
		oidc?: { sealedIdToken: string | null; sid: string | null; issuer: string } | null;
		/** For passkey sessions: the passkey, whose deletion ends the session (cascade). */
		passkeyId?: number | null;
		/** "Keep me signed in" (default): false makes a browser-session cookie and a 12-hour limit. */
		keepSignedIn?: boolean;
		/** The token, when the caller needs the session's id beforehand (sign-in.ts). */
		token?: string;
		/** A condition the statement must meet, or no session (sign-in.ts: the method not paused). */
		onlyIf?: postgres.Fragment;
	} = {},
	/** Writes that go with this session, in the same statement (sign-in.ts). */
	writes: postgres.Fragment[] = [],
	gate?: postgres.Fragment
): Promise<{ token: string; session: Session } | null> {
	const token = meta.token ?? generateSessionToken();
	const id = sessionIdFromToken(token);
	const keepSignedIn = meta.keepSignedIn ?? true;
	// Its end under the session policy, as of now (session-policy.ts).
	const expiresAt = sessionEndsAt(sql`now()`, sql`now()`, sql`${keepSignedIn}::boolean`);
	const [row] = await sql`
		${withWrites(writes, gate)}
		insert into "Session" (id, "userId", "sessionVersion", method, "ssoSubject", "expiresAt", ip,
			"userAgent", "displayName", email, "oidcIdToken", "oidcSid", "oidcIssuer", "passkeyId",
			"keepSignedIn")
		select ${id}, u.id, u."sessionVersion", ${method}, ${meta.ssoSubject ?? null}, ${expiresAt},
			${meta.ip ?? null}, ${meta.userAgent?.slice(0, 512) ?? null}, ${meta.displayName ?? null},
			${meta.email ?? null}, ${meta.oidc?.sealedIdToken ?? null}, ${meta.oidc?.sid ?? null},
			${meta.oidc?.issuer ?? null}, ${meta.passkeyId ?? null}, ${keepSignedIn}
		from "User" u join "AppSettings" a on a.id = 1
		where u.id = ${userId} and ${gate ? accepted() : sql`true`}
			and ${meta.onlyIf ?? sql`true`} and ${commitWithoutFlush()}
		returning id, "userId", method, "ssoSubject", "createdAt", "expiresAt", "keepSignedIn",
			"displayName", email, null as "rpLogoutIssuer"
	`;
	if (!row && (gate || meta.onlyIf)) return null;
	if (!row) throw new Error(`Cannot create a session: user ${userId} does not exist`);
	return { token, session: row as Session };
}

/**
 * The one query per request: whether any user exists (for the first-run redirect) and, when the
 * token names a session of the right version that is live under the current policy, that session
 * and its user. It also computes the session's end as of a renewal now, for the hourly write.
 */
export async function validateSessionToken(token: string | null): Promise<Resolved> {
	const id = token && /^[a-z2-7]{32}$/.test(token) ? sessionIdFromToken(token) : null;
	const [row] = await sql`
		select
			exists (select 1 from "User") as "hasUsers",
			s.id as "sessionId", s.method, s."ssoSubject" as "sessionSubject",
			s."createdAt", s."expiresAt", s."lastSeenAt", s."keepSignedIn", s."displayName" as "sessionDisplayName", s.email as "sessionEmail",
			${sessionEndsAt(sql`s."createdAt"`, sql`now()`, sql`s."keepSignedIn"`)} as "renewedExpiresAt",
			u.id, u.username, u.email, u."localUsername", u."passwordHash" is not null as "hasPassword",
			u."plexId", u."plexUsername", u."ssoSubject", u."ssoIssuer", u."ssoProvider", u."sessionVersion",
			a."forwardAuthUserHeader" as "forwardUserHeader",
			case when s.method = 'oidc' and a."oidcRpLogout" and a."ssoMode" = 'OIDC'
				then a."oidcIssuer" end as "rpLogoutIssuer"
		from (select 1) as one
		left join "AppSettings" a on a.id = 1
		left join "Session" s on s.id = ${id} and ${sessionLive()}
		left join "User" u on u.id = s."userId" and u."sessionVersion" = s."sessionVersion"
	`;
	const forwardUserHeader = row.forwardUserHeader ?? 'Remote-User';
	if (!row.id)
		return { hasUsers: row.hasUsers, session: null, user: null, renewed: false, forwardUserHeader };

	const session: Session = {
		id: row.sessionId,
		userId: row.id,
		method: row.method,
		ssoSubject: row.sessionSubject,
		createdAt: row.createdAt,
		expiresAt: row.expiresAt,
		keepSignedIn: row.keepSignedIn,
		displayName: row.sessionDisplayName,
		email: row.sessionEmail,
		rpLogoutIssuer: row.rpLogoutIssuer ?? null
	};
	const lastSeenDue = new Date(Date.now() - LAST_SEEN_PRECISION_MS);
	const renewed = row.lastSeenAt <= lastSeenDue;
	if (renewed) {
		// The end under the policy as it is now: later when the policy grew longer, and moved on
		// by an idle timeout. Repeating the test in SQL keeps concurrent requests to one write.
		session.expiresAt = row.renewedExpiresAt;
		await sql`
			update "Session" set "expiresAt" = ${session.expiresAt}, "lastSeenAt" = now()
			where id = ${session.id} and "lastSeenAt" <= ${lastSeenDue}
		`;
	}
	const user: SessionUser = {
		id: row.id,
		username: row.username,
		email: row.email,
		localUsername: row.localUsername,
		hasPassword: row.hasPassword,
		plexId: row.plexId,
		plexUsername: row.plexUsername,
		ssoSubject: row.ssoSubject,
		ssoIssuer: row.ssoIssuer,
		ssoProvider: row.ssoProvider,
		sessionVersion: row.sessionVersion
	};
	return { hasUsers: true, session, user, renewed, forwardUserHeader };
}

export async function invalidateSession(sessionId: string) {
	await sessionDelete(sessionId);
}

/** Ending one session, as one statement (to run alone or inside a sign-in's). */
export function sessionDelete(sessionId: string) {
	return sql`delete from "Session" where id = ${sessionId}`;
}

/** The session's cookie: until its stored end, or, without "Keep me signed in", a browser-session cookie. */
export function setSessionCookie(
	cookies: Cookies,
	token: string,
	session: Pick<Session, 'expiresAt' | 'keepSignedIn'>,
	secure: boolean
) {
	cookies.set(SESSION_COOKIE, token, {
		httpOnly: true,
		sameSite: 'lax',
		path: '/',
		secure,
		...(session.keepSignedIn ? { expires: session.expiresAt } : {})
	});
}

export function deleteSessionCookie(cookies: Cookies, secure: boolean) {
	cookies.delete(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/', secure });
}
