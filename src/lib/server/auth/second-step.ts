// Checking a one-time code (a TOTP code or a recovery code) for a user, throttled like the
// password: the attempt is counted by throttle.ts under the code's own kind ('totp' or
// 'recovery-code') before the code is looked at, refused attempts are audited as one row per key
// and window, and a right code gives back what it counted. Used by the second step of a password
// sign-in, by /login/recovery, and by turning TOTP off in settings.
import type { RequestEvent } from '@sveltejs/kit';
import { audit, auditRepeated } from '../audit';
import { knownDevice } from './known-device';
import { useRecoveryCode } from './recovery-codes';
import {
	checkAndCount,
	minutesText,
	secretCheckRules,
	secretCheckSucceeded,
	type SecretKind
} from './throttle';
import { acceptTotpCode, normaliseTotpCode } from './totp';

export type CodeKind = Extract<SecretKind, 'totp' | 'recovery-code'>;

export type CodeCheck =
	| { ok: true; recoveryCodesLeft: number | null }
	| { ok: false; status: 400 | 429; message: string };

const WRONG: Record<CodeKind, string> = {
	totp: 'That code is not right, or it was already used. Wait for the next code and try again.',
	'recovery-code': 'That recovery code is not right, or it was already used.'
};

/**
 * Counts and checks `code` against the user (null: no such user; the attempt is still counted
 * and refused, so that guessing usernames costs the same). `account` names the throttle keys:
 * the username typed when signing in, `user:<id>` in settings.
 */
export async function checkCode(
	event: Pick<RequestEvent, 'locals' | 'cookies' | 'setHeaders'>,
	who: { userId: number | null; account: string },
	kind: CodeKind,
	code: string,
	method: string
): Promise<CodeCheck> {
	const ip = event.locals.client.ip;
	const rules = secretCheckRules(kind, {
		ip,
		account: who.account,
		device: knownDevice(event.cookies, who.userId)
	});
	const verdict = await checkAndCount(rules);
	if (!verdict.allowed) {
		event.setHeaders({ 'retry-after': String(verdict.retryAfterSeconds) });
		await auditRepeated({
			event: 'login.throttled',
			userId: who.userId,
			method,
			ip,
			detail: { username: who.account, key: verdict.key, step: kind },
			collapseKey: `${verdict.key}@${verdict.windowEndsAt.toISOString()}`
		});
		return {
			ok: false,
			status: 429,
			message: `Too many wrong codes. Try again in ${minutesText(verdict.retryAfterSeconds)}.`
		};
	}
	let right = false;
	let recoveryCodesLeft: number | null = null;
	if (who.userId !== null && kind === 'totp') {
		const digits = normaliseTotpCode(code);
		right = digits !== null && (await acceptTotpCode(who.userId, digits));
	} else if (who.userId !== null) {
		recoveryCodesLeft = await useRecoveryCode(who.userId, code);
		right = recoveryCodesLeft !== null;
	}
	if (!right) {
		await audit({
			event: 'login.failed',
			userId: who.userId,
			method,
			ip,
			detail: { username: who.account, step: kind, reason: `wrong_${kind}` }
		});
		return { ok: false, status: 400, message: WRONG[kind] };
	}
	await secretCheckSucceeded(rules);
	return { ok: true, recoveryCodesLeft };
}
