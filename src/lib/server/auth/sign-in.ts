// Where every way of signing in ends: the browser's previous session (if any) is ended, a new
// one is created for the user with a fresh token, the cookie is set, the browser is remembered
// as a known device of that user (see known-device.ts), and the sign-in is audited. The database
// part is one statement: one round trip, one transaction. A sign-in from a browser without a valid
// known-device cookie for the account, or with a recovery code, also queues its alert in that
// statement (alerts/outbox.ts); it is sent in the background and never waited for.
//
// A password sign-in also starts here (signInWithPassword): one round trip before the hash is
// checked (password-attempt.ts: settings, account, throttle count) and one after it (the
// throttle's give-back and a re-made hash ride along in signIn's statement). Neither waits for the
// disk to commit (db.ts, commitWithoutFlush): a sign-in costs its hash and little else.
import { redirect, type RequestEvent } from '@sveltejs/kit';
import type postgres from 'postgres';
import { alertRows } from '../alerts/outbox';
import { auditFailure, auditRepeated, auditRow, logAudit } from '../audit';
import { seal } from '../crypto';
import { sql } from '../db';
import { passwordHashUpdate } from '../users';
import { knownDevice, rememberDevice } from './known-device';
import { liftPauses, newNotMeToken, notMeRow, notPaused, pauseKeyOf } from './not-me';
import { startPasswordAttempt, type PasswordAttempt } from './password-attempt';
import { startPendingSignIn } from './pending-sign-in';
import { safeReturnTo } from './redirect';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from './password';
import {
	accepted,
	createSession,
	generateSessionToken,
	sessionDelete,
	sessionIdFromToken,
	setSessionCookie,
	type LoginMethod
} from './session';
import { successWrites, type Verdict } from './throttle';

/** Longer ID tokens are not kept (RP-initiated logout then goes without id_token_hint). */
const MAX_ID_TOKEN_CHARS = 16 * 1024;

type SignInEvent = Pick<RequestEvent, 'locals' | 'cookies' | 'request'>;

export async function signIn(
	event: SignInEvent,
	userId: number,
	method: LoginMethod,
	decoration: {
		ssoSubject?: string;
		displayName?: string | null;
		email?: string | null;
		oidc?: { idToken: string; sid: string | null; issuer: string };
		passkeyId?: number;
		/** "Keep me signed in" on the login form (default true; see session-policy.ts). */
		keepSignedIn?: boolean;
	} = {},
	/** More writes that belong to this sign-in (a password sign-in's), in the same statement. */
	writes: postgres.Fragment[] = [],
	/**
	 * Common table expressions that decide, in the same statement, whether the sign-in happens:
	 * the session and its audit row are written only when the last one, `accepted`, returns a row.
	 */
	gate?: postgres.Fragment
): Promise<boolean> {
	const { locals } = event;
	const succeeded = { event: 'login.succeeded', userId, method, ip: locals.client.ip };
	const newBrowser = knownDevice(event.cookies, userId) === null;
	// The sign-in happens only when its method is not paused by a "Not me" (not-me.ts), and when
	// the gate, if any, accepts.
	const onlyIf = gate
		? sql`${accepted()} and ${notPaused(userId, method)}`
		: notPaused(userId, method);
	const token = generateSessionToken();
	const alertKind =
		method === 'recovery-code' ? 'recovery_code' : newBrowser ? 'new_browser' : null;
	// The "Not me" link: its token's hash in "NotMe", the token sealed in the alert's row.
	const notMe = alertKind ? newNotMeToken() : null;
	const alert = alertKind
		? [
				alertRows(
					{
						kind: alertKind,
						event: 'login.succeeded',
						userId,
						ip: locals.client.ip,
						detail: {
							method,
							newBrowser,
							notMe: seal(`${locals.client.origin}/not-me/${notMe}`)
						}
					},
					onlyIf
				),
				notMeRow(notMe!, sessionIdFromToken(token), userId, method, alertKind, onlyIf)
			]
		: [];
	const created = await createSession(
		userId,
		method,
		{
			ip: locals.client.ip,
			userAgent: event.request.headers.get('user-agent'),
			ssoSubject: decoration.ssoSubject,
			displayName: decoration.displayName,
			email: decoration.email,
			passkeyId: decoration.passkeyId,
			keepSignedIn: decoration.keepSignedIn,
			token,
			onlyIf,
			oidc: decoration.oidc && {
				// Sealed like the client secret: a leaked table must not hand out ID tokens.
				sealedIdToken:
					decoration.oidc.idToken && decoration.oidc.idToken.length <= MAX_ID_TOKEN_CHARS
						? seal(decoration.oidc.idToken)
						: null,
				sid: decoration.oidc.sid,
				issuer: decoration.oidc.issuer
			}
		},
		[
			...(locals.session ? [sessionDelete(locals.session.id)] : []),
			auditRow(succeeded, onlyIf),
			...alert,
			...liftPauses(userId, method, locals.client.ip, onlyIf),
			...writes
		],
		gate
	);
	if (!created) {
		if (await isPaused(userId, method)) redirect(303, `/login?paused=${pauseKeyOf(method)}`);
		if (!gate) throw new Error(`Cannot create a session: user ${userId} does not exist`);
		return false;
	}
	const { session } = created;
	setSessionCookie(event.cookies, token, session, locals.secureCookies);
	rememberDevice(event.cookies, userId, locals.secureCookies);
	logAudit(succeeded);
	return true;
}

/** After a refused sign-in only: was it refused because a "Not me" paused its method? */
async function isPaused(userId: number, method: LoginMethod): Promise<boolean> {
	const [row] =
		await sql`select 1 from "User" where id = ${userId} and not ${notPaused(userId, method)}`;
	return Boolean(row);
}

export type PasswordSignIn =
	| { outcome: 'signed-in' }
	/** The password was right and TOTP is on: no session yet, the code comes next (/login/code). */
	| { outcome: 'second-step' }
	/** The password form is not offered (the one rule): nothing was counted or checked. */
	| { outcome: 'form-not-offered' }
	| { outcome: 'throttled'; verdict: Extract<Verdict, { allowed: false }> }
	/** Unknown username or wrong password: one answer for both. */
	| { outcome: 'invalid' };

/**
 * A sign-in with a username and password: counted by the throttle before the password is checked
 * (in the same round trip as everything else it needs to read), then checked, then signed in.
 */
export async function signInWithPassword(
	event: SignInEvent,
	username: string,
	password: string,
	returnTo: string,
	keepSignedIn = true
): Promise<PasswordSignIn> {
	const ip = event.locals.client.ip;
	const attempt = await startPasswordAttempt({ ip, username, cookies: event.cookies });
	if (!attempt.formOffered) return { outcome: 'form-not-offered' };
	const { verdict, user } = attempt;
	if (!verdict.allowed) {
		await auditRepeated({
			event: 'login.throttled',
			method: 'local',
			ip,
			detail: { username, key: verdict.key },
			collapseKey: `${verdict.key}@${verdict.windowEndsAt.toISOString()}`
		});
		return { outcome: 'throttled', verdict };
	}

	const ok = user?.passwordHash
		? await verifyPassword(user.passwordHash, password)
		: await verifyAgainstDummy(password);
	if (!user?.passwordHash || !ok) {
		// An unknown username names no account: counted, not stored (audit.ts).
		await auditFailure({
			event: 'login.failed',
			userId: user?.id ?? null,
			method: 'local',
			ip,
			detail: { username }
		});
		return { outcome: 'invalid' };
	}
	return passwordVerified(
		event,
		{
			id: user.id,
			passwordHash: user.passwordHash,
			totpOn: user.totpOn,
			localPaused: user.localPaused
		},
		attempt,
		{ username, password, returnTo, keepSignedIn }
	);
}

/**
 * The password was right: the session is created, in one statement with the throttle's give-back
 * (throttle.ts) and, when the stored hash has old parameters, its re-made replacement. A second
 * step (an authenticator code) belongs here, before this creates the session.
 */
async function passwordVerified(
	event: SignInEvent,
	user: { id: number; passwordHash: string; totpOn: boolean; localPaused: boolean },
	attempt: PasswordAttempt,
	typed: { username: string; password: string; returnTo: string; keepSignedIn: boolean }
): Promise<PasswordSignIn> {
	const writes = successWrites(attempt.rules);
	if (needsRehash(user.passwordHash)) {
		writes.push(passwordHashUpdate(user.id, await hashPassword(typed.password)));
	}
	// The one place where "password verified" becomes a session, or, with TOTP on, a wait for
	// the second step (pending-sign-in.ts) that carries the same writes.
	// Paused by a "Not me": no second step either (a recovery code there would get round it).
	if (user.totpOn && user.localPaused) redirect(303, '/login?paused=local');
	if (user.totpOn) {
		await startPendingSignIn(
			event.cookies,
			event.locals.secureCookies,
			{
				userId: user.id,
				account: typed.username.toLowerCase(),
				returnTo: safeReturnTo(typed.returnTo),
				ip: event.locals.client.ip,
				keepSignedIn: typed.keepSignedIn
			},
			writes
		);
		return { outcome: 'second-step' };
	}
	await signIn(event, user.id, 'local', { keepSignedIn: typed.keepSignedIn }, writes);
	return { outcome: 'signed-in' };
}
