// Step-up: the one rule for every change that adds or replaces a credential or a way in (recovery
// codes, the authenticator app, a passkey, the local username or password, an SSO identity, a
// Plex link, Plex sign-in switched on). A signed-in session alone is not enough for those: a
// copied cookie or an unlocked browser must not turn into a lasting, password-independent way in.
//
// Model. The session must come with one proof, checked in this order:
//  1. a sign-in less than STEP_UP_WINDOW_MS old that was not made with a recovery code (a
//     recovery code is a way back in, not proof of who holds the account: it must not mint more
//     ways in), or a proof below accepted on this session less than STEP_UP_WINDOW_MS ago
//     ("Session"."provedAt", so the proof just given also covers the change offered next);
//  2. `currentPassword`: the current password, under the settings' current-password throttle
//     (current-password.ts);
//  3. `stepUpCode`: a code from the authenticator app, counted under the TOTP throttle like the
//     second step of a sign-in, and refused for a step already used (second-step.ts, totp.ts);
//  4. `stepUpPasskey`: a passkey assertion over a challenge issued now (POST
//     /settings/step-up/options, sealed in this browser's cookie like a sign-in's), made by one
//     of this user's passkeys for this host.
// A refusal says in words which proofs this account can give and changes nothing; the caller
// checks the proof before any write and, for SSO and Plex linking, before leaving for the
// provider (the callback then only finishes what a proven session began).
import type { RequestEvent } from '@sveltejs/kit';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { sql } from '../db';
import { parseWebauthnResponse } from '../../schemas/passkey';
import type { StepUpView } from '../../step-up';
import { checkCurrentPassword } from './current-password';
import { finishAuthentication, rpIdFor } from './passkeys';
import { checkCode } from './second-step';
import type { Session, SessionUser } from './session';
import { secretCheckSucceeded } from './throttle';

/** How long a sign-in (not by recovery code) or an accepted proof counts as proof. */
export const STEP_UP_WINDOW_MS = 5 * 60 * 1000;

export const STEP_UP_FIELDS = {
	password: 'currentPassword',
	code: 'stepUpCode',
	passkey: 'stepUpPasskey'
} as const;

export type StepUpField = (typeof STEP_UP_FIELDS)[keyof typeof STEP_UP_FIELDS];

export type StepUpResult =
	| { ok: true; via: 'recent-sign-in' | 'recent-proof' | 'password' | 'code' | 'passkey' }
	| { ok: false; status: 400 | 403 | 429; message: string; field: StepUpField | null };

export type { StepUpView };

type Row = {
	hasPassword: boolean;
	totp: boolean;
	passkeys: number;
	passkeyLoginEnabled: boolean;
	provedAt: Date | null;
};

async function proofState(userId: number, sessionId: string, rpId: string): Promise<Row> {
	const [row] = await sql<Row[]>`
		select u."passwordHash" is not null as "hasPassword", u."totpSecret" is not null as totp,
			(select count(*)::int from "Passkey" p where p."userId" = u.id and p."rpId" = ${rpId}) as passkeys,
			(select "passkeyLoginEnabled" from "AppSettings" where id = 1) as "passkeyLoginEnabled",
			(select "provedAt" from "Session" s where s.id = ${sessionId} and s."userId" = u.id) as "provedAt"
		from "User" u where u.id = ${userId}
	`;
	return row;
}

/** The moment until which this session needs no further proof, or null when it needs one now. */
export function provenUntil(
	session: Pick<Session, 'createdAt' | 'method'>,
	provedAt: Date | null,
	now = Date.now()
): Date | null {
	const times = [provedAt?.getTime() ?? 0];
	if (session.method !== 'recovery-code') times.push(session.createdAt.getTime());
	const until = Math.max(...times) + STEP_UP_WINDOW_MS;
	return until > now ? new Date(until) : null;
}

/** The proofs an account has, in words ("your current password, or …"). */
export function proofWords(view: Pick<StepUpView, 'password' | 'code' | 'passkey'>): string {
	const ways: string[] = [];
	if (view.password) ways.push('your current password');
	if (view.code) ways.push('a code from your authenticator app');
	if (view.passkey) ways.push('one of your passkeys (this needs JavaScript)');
	const recent =
		'sign out and in again (not with a recovery code), then make the change within 5 minutes';
	if (!ways.length) return `Your account has no password: ${recent}.`;
	const prefix = view.password ? '' : 'Your account has no password. ';
	const last = ways.pop();
	const list = ways.length ? `${ways.join(', ')} or ${last}` : last;
	return `${prefix}Confirm with ${list}; or ${recent}.`;
}

function viewOf(row: Row, session: Pick<Session, 'createdAt' | 'method'>): StepUpView {
	const until = provenUntil(session, row.provedAt);
	const ways = {
		password: row.hasPassword,
		code: row.totp,
		passkey: row.passkeyLoginEnabled && row.passkeys > 0
	};
	return {
		proven: until !== null,
		provenUntil: until?.toISOString() ?? null,
		...ways,
		recoverySession: session.method === 'recovery-code',
		needs: proofWords(ways)
	};
}

/** What the step-up fields of a settings form show for this session. */
export async function stepUpView(
	user: Pick<SessionUser, 'id'>,
	session: Pick<Session, 'id' | 'createdAt' | 'method'>,
	origin: string
): Promise<StepUpView> {
	return viewOf(await proofState(user.id, session.id, rpIdFor(origin)), session);
}

/** Records an accepted proof on the session: for STEP_UP_WINDOW_MS it covers the next change. */
export async function markProved(sessionId: string) {
	await sql`update "Session" set "provedAt" = now() where id = ${sessionId}`;
}

const text = (form: FormData, name: string, max: number) => {
	const value = form.get(name);
	return typeof value === 'string' ? value.slice(0, max) : '';
};

type StepUpEvent = Pick<RequestEvent, 'locals' | 'cookies' | 'setHeaders'>;

/**
 * Checks this request's proof for a change that adds a way in. Reads the step-up fields of
 * `form`; writes nothing but the throttle's counts and, once a proof is accepted, "provedAt".
 */
export async function requireStepUp(
	event: StepUpEvent,
	user: Pick<SessionUser, 'id'>,
	session: Pick<Session, 'id' | 'createdAt' | 'method'>,
	form: FormData
): Promise<StepUpResult> {
	const { client } = event.locals;
	const row = await proofState(user.id, session.id, rpIdFor(client.origin));
	const view = viewOf(row, session);
	if (provenUntil(session, null)) return { ok: true, via: 'recent-sign-in' };
	if (view.proven) return { ok: true, via: 'recent-proof' };

	const password = text(form, STEP_UP_FIELDS.password, 256);
	const code = text(form, STEP_UP_FIELDS.code, 32).trim();
	const assertion = form.get(STEP_UP_FIELDS.passkey);
	if (password) {
		const checked = await checkCurrentPassword(event, user.id, password);
		if (!checked.ok) return { ...checked, field: STEP_UP_FIELDS.password };
		await markProved(session.id);
		return { ok: true, via: 'password' };
	}
	if (code) {
		if (!row.totp) {
			return {
				ok: false,
				status: 400,
				message: `The authenticator app is not on for your account. ${view.needs}`,
				field: STEP_UP_FIELDS.code
			};
		}
		const checked = await checkCode(
			event,
			{ userId: user.id, account: `user:${user.id}` },
			'totp',
			code,
			'settings'
		);
		if (!checked.ok) return { ...checked, field: STEP_UP_FIELDS.code };
		await markProved(session.id);
		return { ok: true, via: 'code' };
	}
	if (typeof assertion === 'string' && assertion) {
		const response = parseWebauthnResponse<AuthenticationResponseJSON>(assertion);
		const result =
			response &&
			(await finishAuthentication(
				client.origin,
				client.ip,
				response,
				event.cookies,
				event.locals.secureCookies,
				{ userId: user.id, sessionId: session.id }
			));
		if (result && !result.ok && result.reason === 'throttled') {
			event.setHeaders({ 'retry-after': String(result.verdict.retryAfterSeconds) });
			return {
				ok: false,
				status: 429,
				message: 'Too many passkey attempts from your address. Wait a few minutes.',
				field: null
			};
		}
		if (!result?.ok || result.userId !== user.id) {
			return {
				ok: false,
				status: 400,
				message: 'That passkey could not be verified as one of yours here. Try again.',
				field: null
			};
		}
		await secretCheckSucceeded(result.rules);
		await markProved(session.id);
		return { ok: true, via: 'passkey' };
	}
	const recovery = view.recoverySession
		? ' A sign-in with a recovery code does not count as proof.'
		: '';
	return {
		ok: false,
		status: 403,
		message: `This change needs proof that it is you.${recovery} ${view.needs}`,
		field: row.hasPassword ? STEP_UP_FIELDS.password : null
	};
}
