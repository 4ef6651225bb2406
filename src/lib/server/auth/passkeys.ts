// Passkeys (WebAuthn) as a way in, through @simplewebauthn/server.
//
// Model. The relying-party ID is the host of the public origin (client.ts: ORIGIN wins, else a
// trusted proxy's X-Forwarded-Host, else Host); a passkey is stored with the RP ID it was made
// under, and only works while the origin's host is that one (browsers bind it so). Every
// ceremony begins with a challenge sealed in this browser's cookie (sign-in-flows.ts: five
// minutes, nothing stored) and ends by taking it; the response must name this origin and RP ID and
// carry user verification, and a challenge whose signature checked out is recorded as used
// (used-flows.ts), so the same answer never counts twice.
//
// Registering needs proof on top of the session (step-up.ts, asked by both registration
// endpoints); the challenge is bound to the user and the session that gave it.
// Signing in needs no username (discoverable credentials); attempts are counted per client
// address before the signature is checked, and the stored counter must move forward when an
// authenticator keeps one. Deleting a passkey asks the one rule inside the settings-row lock.
import {
	generateAuthenticationOptions,
	generateRegistrationOptions,
	verifyAuthenticationResponse,
	verifyRegistrationResponse,
	type AuthenticationResponseJSON,
	type RegistrationResponseJSON
} from '@simplewebauthn/server';
import { decodeClientDataJSON } from '@simplewebauthn/server/helpers';
import type { Cookies } from '@sveltejs/kit';
import { sql } from '../db';
import type { Session, SessionUser } from './session';
import { addressRule, checkAndCount, type ThrottleRule, type Verdict } from './throttle';
import { loadRuleInputs, WOULD_LOCK_OUT, wouldLockOut, type LockOutRefusal } from '../rule/inputs';
import { factorLossLocksOut } from '../sso/mfa';
import { startFlow, takeFlow } from './sign-in-flows';
import { useFlowOnce } from './used-flows';

/** Passkeys one user may hold. */
export const MAX_PASSKEYS_PER_USER = 20;
export const PASSKEY_NAME_MAX = 64;
const RP_NAME = 'Librariarr';

/** The relying-party ID for a public origin: its host name, without scheme or port. */
export function rpIdFor(origin: string): string {
	return new URL(origin).hostname.replace(/^\[|\]$/g, '');
}

export type PasskeyRow = {
	id: number;
	name: string;
	rpId: string;
	createdAt: Date;
	lastUsedAt: Date | null;
};

export async function listPasskeys(userId: number): Promise<PasskeyRow[]> {
	return sql<PasskeyRow[]>`
		select id, name, "rpId", "createdAt", "lastUsedAt" from "Passkey"
		where "userId" = ${userId} order by "createdAt", id
	`;
}

export async function passkeyLoginEnabled(): Promise<boolean> {
	const [row] = await sql<{ enabled: boolean }[]>`
		select "passkeyLoginEnabled" as enabled from "AppSettings" where id = 1
	`;
	return row.enabled;
}

// ---- registration ---------------------------------------------------------------------------

export async function registrationOptions(
	user: Pick<SessionUser, 'id' | 'username' | 'localUsername'>,
	session: Pick<Session, 'id'>,
	origin: string,
	cookies: Cookies,
	secure: boolean
) {
	const rpId = rpIdFor(origin);
	const existing = await sql<{ credentialId: string; transports: string[] }[]>`
		select "credentialId", transports from "Passkey" where "userId" = ${user.id} and "rpId" = ${rpId}
	`;
	if (existing.length >= MAX_PASSKEYS_PER_USER) return 'too-many' as const;
	const options = await generateRegistrationOptions({
		rpName: RP_NAME,
		rpID: rpId,
		userName: user.localUsername ?? user.username,
		userDisplayName: user.username,
		// The same handle every time: an authenticator keeps one passkey per account and site.
		userID: new TextEncoder().encode(`librariarr-user-${user.id}`),
		attestationType: 'none',
		excludeCredentials: existing.map((p) => ({
			id: p.credentialId,
			transports: p.transports as never
		})),
		authenticatorSelection: { residentKey: 'required', userVerification: 'required' }
	});
	startFlow(cookies, secure, 'passkey-register', {
		challenge: options.challenge,
		userId: user.id,
		sessionId: session.id,
		rpId,
		origin
	});
	return options;
}

/** The challenge the browser says it answered, or null when the response cannot say. */
function answeredChallenge(response: { response?: { clientDataJSON?: unknown } }): string | null {
	const data = response.response?.clientDataJSON;
	if (typeof data !== 'string' || data.length > 8192) return null;
	try {
		const challenge = decodeClientDataJSON(data).challenge;
		return typeof challenge === 'string' && challenge.length <= 512 ? challenge : null;
	} catch {
		return null;
	}
}

export type RegisterResult =
	| { ok: true; id: number }
	| { ok: false; reason: 'expired' | 'invalid' | 'duplicate' | 'too-many' };

export async function finishRegistration(
	userId: number,
	session: Pick<Session, 'id'>,
	origin: string,
	name: string,
	response: RegistrationResponseJSON,
	cookies: Cookies,
	secure: boolean
): Promise<RegisterResult> {
	const challenge = answeredChallenge(response);
	// Issued to this user and session, for this challenge; any other answer finds no flow.
	const stored =
		challenge &&
		takeFlow(
			cookies,
			secure,
			'passkey-register',
			(flow) =>
				flow.challenge === challenge && flow.userId === userId && flow.sessionId === session.id
		);
	if (!stored) return { ok: false, reason: 'expired' };
	const rpId = rpIdFor(origin);
	// Issued under another origin (ORIGIN changed in between): it would not sign in here.
	if (stored.origin !== origin || stored.rpId !== rpId) return { ok: false, reason: 'invalid' };
	let info;
	try {
		const verified = await verifyRegistrationResponse({
			response,
			expectedChallenge: stored.challenge,
			expectedOrigin: origin,
			expectedRPID: rpId,
			requireUserVerification: true
		});
		if (!verified.verified) return { ok: false, reason: 'invalid' };
		info = verified.registrationInfo;
	} catch {
		return { ok: false, reason: 'invalid' };
	}
	if (!(await useFlowOnce('passkey-register', stored.challenge, stored.expiresAt))) {
		return { ok: false, reason: 'expired' };
	}
	return sql.begin(async (tx) => {
		await loadRuleInputs(tx, { userId, rpId, lock: true });
		const [{ count }] = await tx<{ count: number }[]>`
			select count(*)::int as count from "Passkey" where "userId" = ${userId}
		`;
		if (count >= MAX_PASSKEYS_PER_USER) return { ok: false, reason: 'too-many' } as const;
		const [row] = await tx<{ id: number }[]>`
			insert into "Passkey" ("userId", "credentialId", "publicKey", counter, transports, "rpId",
				name, "deviceType", "backedUp")
			values (${userId}, ${info.credential.id}, ${Buffer.from(info.credential.publicKey)},
				${info.credential.counter}, ${info.credential.transports ?? []}, ${rpId}, ${name},
				${info.credentialDeviceType}, ${info.credentialBackedUp})
			on conflict ("credentialId") do nothing
			returning id
		`;
		return row
			? ({ ok: true, id: row.id } as const)
			: ({ ok: false, reason: 'duplicate' } as const);
	});
}

// ---- sign-in --------------------------------------------------------------------------------

/** Who a step-up challenge was given to: only that user, in that session, can answer it. */
export type StepUpBinding = { userId: number; sessionId: string };

/**
 * A sign-in challenge, sealed into this browser's cookie: asking for one writes nothing. With
 * `stepUp`, a challenge for proving it is you before a change (step-up.ts), in its own cookie.
 */
export async function authenticationOptions(
	origin: string,
	cookies: Cookies,
	secure: boolean,
	stepUp?: StepUpBinding
) {
	const rpId = rpIdFor(origin);
	const options = await generateAuthenticationOptions({
		rpID: rpId,
		userVerification: 'required',
		allowCredentials: []
	});
	const flow = { challenge: options.challenge, rpId, origin };
	if (stepUp) startFlow(cookies, secure, 'passkey-step-up', { ...flow, ...stepUp });
	else startFlow(cookies, secure, 'passkey', flow);
	return options;
}

/** Passkey sign-ins from one client address, counted before each check. */
export function passkeyThrottleRules(ip: string): ThrottleRule[] {
	return [addressRule('passkey', ip)];
}

export type SignInResult =
	| { ok: true; userId: number; passkeyId: number; rules: ThrottleRule[] }
	| { ok: false; reason: 'throttled'; verdict: Extract<Verdict, { allowed: false }> }
	| {
			ok: false;
			reason: 'expired' | 'unknown' | 'wrong-host' | 'invalid' | 'counter' | 'off';
			userId?: number;
	  };

export async function finishAuthentication(
	origin: string,
	ip: string,
	response: AuthenticationResponseJSON,
	cookies: Cookies,
	secure: boolean,
	stepUp?: StepUpBinding
): Promise<SignInResult> {
	const rules = passkeyThrottleRules(ip);
	const verdict = await checkAndCount(rules);
	if (!verdict.allowed) return { ok: false, reason: 'throttled', verdict };

	const challenge = answeredChallenge(response);
	const kind = stepUp ? 'passkey-step-up' : 'passkey';
	const stored =
		challenge &&
		(stepUp
			? takeFlow(
					cookies,
					secure,
					'passkey-step-up',
					(flow) =>
						flow.challenge === challenge &&
						flow.userId === stepUp.userId &&
						flow.sessionId === stepUp.sessionId
				)
			: takeFlow(cookies, secure, 'passkey', (flow) => flow.challenge === challenge));
	if (!stored) return { ok: false, reason: 'expired' };
	const rpId = rpIdFor(origin);
	if (stored.origin !== origin || stored.rpId !== rpId) return { ok: false, reason: 'invalid' };
	if (!(await passkeyLoginEnabled())) return { ok: false, reason: 'off' };

	const credentialId = typeof response.id === 'string' ? response.id.slice(0, 1024) : '';
	const [passkey] = await sql<
		{
			id: number;
			userId: number;
			publicKey: Buffer;
			counter: string;
			transports: string[];
			rpId: string;
		}[]
	>`
		select id, "userId", "publicKey", counter, transports, "rpId"
		from "Passkey" where "credentialId" = ${credentialId}
	`;
	if (!passkey) return { ok: false, reason: 'unknown' };
	if (passkey.rpId !== rpId) return { ok: false, reason: 'wrong-host', userId: passkey.userId };

	let newCounter: number;
	try {
		const verified = await verifyAuthenticationResponse({
			response,
			expectedChallenge: stored.challenge,
			expectedOrigin: origin,
			expectedRPID: rpId,
			credential: {
				id: credentialId,
				publicKey: new Uint8Array(passkey.publicKey),
				counter: Number(passkey.counter),
				transports: passkey.transports as never
			},
			requireUserVerification: true
		});
		if (!verified.verified) return { ok: false, reason: 'invalid', userId: passkey.userId };
		newCounter = verified.authenticationInfo.newCounter;
	} catch (error) {
		const counter = error instanceof Error && /counter/i.test(error.message);
		return { ok: false, reason: counter ? 'counter' : 'invalid', userId: passkey.userId };
	}
	// Only a signature that checked out records the challenge, so only a passkey's holder writes.
	if (!(await useFlowOnce(kind, stored.challenge, stored.expiresAt))) {
		return { ok: false, reason: 'expired', userId: passkey.userId };
	}
	// The counter only moves forward (authenticators that keep none always say 0); the condition
	// is re-checked in the write, so two sign-ins racing with one counter value cannot both pass.
	const updated = await sql`
		update "Passkey" set counter = ${newCounter}, "lastUsedAt" = now()
		where id = ${passkey.id} and (counter < ${newCounter} or (counter = 0 and ${newCounter} = 0))
		returning id
	`;
	if (!updated.length) return { ok: false, reason: 'counter', userId: passkey.userId };
	return { ok: true, userId: passkey.userId, passkeyId: passkey.id, rules };
}

// ---- managing -------------------------------------------------------------------------------

export async function renamePasskey(userId: number, id: number, name: string): Promise<boolean> {
	const rows = await sql`
		update "Passkey" set name = ${name} where id = ${id} and "userId" = ${userId} returning id
	`;
	return rows.length > 0;
}

/**
 * Deletes one of the user's passkeys, unless it is their last working way in: one transaction
 * that locks the settings row and asks the rule with the passkey gone (only passkeys made for
 * `rpId`, the current host, count: the others cannot sign in here). The sessions the passkey
 * opened end with it ("Session"."passkeyId" cascades); `signOutOthers` ends every other session
 * of the user as well. Returns how many sessions ended.
 */
export async function deletePasskey(
	userId: number,
	id: number,
	rpId: string,
	options: { currentSessionId: string; signOutOthers: boolean }
): Promise<
	| { ok: true; sessionsEnded: number }
	| { ok: false; reason: 'not-found' | 'sso-mfa-lock-out' }
	| LockOutRefusal
> {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		const [row] = await tx<{ rpId: string }[]>`
			select "rpId" from "Passkey" where id = ${id} and "userId" = ${userId} for update
		`;
		if (!row) return { ok: false, reason: 'not-found' } as const;
		const account = inputs.account!;
		const working = account.passkeys - (row.rpId === rpId ? 1 : 0);
		if (wouldLockOut({ ...inputs, account: { ...account, passkeys: working } }))
			return WOULD_LOCK_OUT;
		// The last passkey here, while it is what "Require two-factor for SSO sign-ins" relies on.
		if (working === 0 && (await factorLossLocksOut(tx, userId, rpId, 'passkey')))
			return { ok: false, reason: 'sso-mfa-lock-out' } as const;
		const opened = await tx<{ live: boolean }[]>`
			select "expiresAt" > now() as live from "Session"
			where "passkeyId" = ${id} and id <> ${options.currentSessionId}
		`;
		await tx`delete from "Passkey" where id = ${id}`;
		const others = options.signOutOthers
			? await tx<{ live: boolean }[]>`
					delete from "Session" where "userId" = ${userId} and id <> ${options.currentSessionId}
					returning "expiresAt" > now() as live
				`
			: [];
		const ended = [...opened, ...others].filter((s) => s.live).length;
		return { ok: true, sessionsEnded: ended } as const;
	});
}
