// A password sign-in waiting for its second step (TOTP on): the password was right, but there is
// no session yet. A row holds who it is for and where to go afterwards; the browser holds a random
// token in an HttpOnly cookie (Path=/login) whose SHA-256 is the row's id, so the row cannot be
// claimed from another browser, and a leaked table cannot be replayed. The cookie also names the
// account the throttle counts the code against (the username typed), so that the code step can
// count before it reads anything (totp-step.ts); it counts only when that is the row's account.
//
// An OIDC sign-in that "Require two-factor for SSO sign-ins" holds back waits here too (method
// 'oidc'): its session fields (subject, names, ID token, sid, issuer) ride along sealed, so that
// the session made after the code is the one the provider's sign-in would have made.
//
// Single use and short: five minutes, and finishing deletes the row in the statement that reads
// it. Bounded: only a correct password makes one, and a user keeps at most MAX_PER_USER (a new one
// drops the oldest), so the table holds at most MAX_PER_USER rows per user with TOTP on; expired
// rows are purged by housekeeping.ts.
import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import type { Cookies } from '@sveltejs/kit';
import type postgres from 'postgres';
import { open, seal } from '../crypto';
import { sql } from '../db';

export const PENDING_COOKIE = 'librariarr_pending';
export const PENDING_LIFETIME_MS = 5 * 60 * 1000;
export const MAX_PENDING_PER_USER = 5;

/** What an OIDC sign-in's session carries (sign-in.ts's decoration). */
export type SsoSessionFields = {
	ssoSubject: string;
	displayName: string | null;
	email: string | null;
	oidc: { idToken: string; sid: string | null; issuer: string };
};

/** Longer sealed fields drop the ID token (RP-initiated logout then goes without id_token_hint). */
const MAX_SEALED_CHARS = 40000;

export function sealSsoSession(fields: SsoSessionFields): string {
	const sealed = seal(JSON.stringify(fields));
	if (sealed.length <= MAX_SEALED_CHARS) return sealed;
	return seal(JSON.stringify({ ...fields, oidc: { ...fields.oidc, idToken: '' } }));
}

/** The sealed fields, opened; null when there are none or they no longer open. */
export function openSsoSession(sealed: string | null): SsoSessionFields | null {
	const text = open(sealed);
	if (!text) return null;
	try {
		return JSON.parse(text) as SsoSessionFields;
	} catch {
		return null;
	}
}

export type PendingSignIn = {
	userId: number;
	returnTo: string | null;
	/** The account the throttle counts against (the username typed on the login page). */
	account: string;
	/** "Keep me signed in" as it was on the login form. */
	keepSignedIn: boolean;
	/** How the sign-in began: a password, or an OIDC sign-in held back for its second factor. */
	method: 'local' | 'oidc';
};

export function idOf(token: string) {
	return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}

/** The token and the account the pending cookie names, or null. */
export function pendingCookie(cookies: Cookies): { token: string; account: string } | null {
	const match = /^([a-z2-7]{32})\.(.{1,64})$/.exec(cookies.get(PENDING_COOKIE) ?? '');
	return match ? { token: match[1], account: match[2] } : null;
}

function tokenFrom(cookies: Cookies): string | null {
	return pendingCookie(cookies)?.token ?? null;
}

/** Forgets the pending cookie (the sign-in finished, or will not). */
export function dropPendingCookie(cookies: Cookies, secure: boolean) {
	cookies.delete(PENDING_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/login', secure });
}

/** Starts the wait for the second step and sets the cookie that binds it to this browser. */
export async function startPendingSignIn(
	cookies: Cookies,
	secure: boolean,
	fields: {
		userId: number;
		account: string;
		returnTo: string;
		ip: string;
		/** "Keep me signed in" as it was on the login form (an OIDC sign-in keeps it on). */
		keepSignedIn?: boolean;
		/** An OIDC sign-in's session fields; absent for a password sign-in. */
		sso?: SsoSessionFields;
	},
	/** Writes that belong to the verified password (the throttle's give-back, a re-made hash). */
	writes: postgres.Fragment[] = []
) {
	const bytes = new Uint8Array(20);
	crypto.getRandomValues(bytes);
	const token = encodeBase32LowerCaseNoPadding(bytes);
	const expiresAt = new Date(Date.now() + PENDING_LIFETIME_MS);
	await sql.begin(async (tx) => {
		for (const write of writes) await tx`${write}`;
		await tx`
			insert into "PendingSignIn" (id, "userId", "returnTo", ip, "expiresAt", "keepSignedIn", method,
				"ssoSession")
			values (${idOf(token)}, ${fields.userId}, ${fields.returnTo}, ${fields.ip}, ${expiresAt},
				${fields.keepSignedIn ?? true}, ${fields.sso ? 'oidc' : 'local'},
				${fields.sso ? sealSsoSession(fields.sso) : null})
		`;
		await tx`
			delete from "PendingSignIn" where id in (
				select id from "PendingSignIn" where "userId" = ${fields.userId}
				order by "createdAt" desc, id offset ${MAX_PENDING_PER_USER}
			)
		`;
	});
	cookies.set(PENDING_COOKIE, `${token}.${fields.account}`, {
		httpOnly: true,
		sameSite: 'lax',
		path: '/login',
		secure,
		maxAge: PENDING_LIFETIME_MS / 1000
	});
}

/** The sign-in this browser is in the middle of, or null (none, expired, or finished). */
export async function findPendingSignIn(cookies: Cookies): Promise<PendingSignIn | null> {
	const token = tokenFrom(cookies);
	if (!token) return null;
	const [row] = await sql<PendingSignIn[]>`
		select p."userId", p."returnTo", coalesce(u."localUsername", u.id::text) as account,
			p."keepSignedIn", p.method
		from "PendingSignIn" p join "User" u on u.id = p."userId"
		where p.id = ${idOf(token)} and p."expiresAt" > now()
	`;
	return row ?? null;
}

/**
 * Ends the wait (the second step was right): deletes the row and the cookie. False when the row
 * was already gone, e.g. a parallel request finished it first: then no session may be made.
 */
export async function finishPendingSignIn(cookies: Cookies, secure: boolean): Promise<boolean> {
	const token = tokenFrom(cookies);
	dropPendingCookie(cookies, secure);
	if (!token) return false;
	const rows = await sql`
		delete from "PendingSignIn" where id = ${idOf(token)} and "expiresAt" > now() returning id
	`;
	return rows.length === 1;
}
