// Checking a one-time code (a TOTP code or a recovery code) for a user, throttled like the
// password: the attempt is counted by throttle.ts under the code's own kind ('totp' or
// 'recovery-code') before the code is looked at, refused attempts are audited as one row per key
// and window, and a right code gives back what it counted. Used by the second step of a password
// sign-in, by /login/recovery, and by turning TOTP off in settings.
import type { RequestEvent } from '@sveltejs/kit';
import { audit } from '../audit';
import { knownDevice } from './known-device';
import { useRecoveryCode } from './recovery-codes';
import { checkSecret, type SecretKind, type SecretRefusal } from './throttle';
import { acceptTotpCode, normaliseTotpCode } from './totp';

export type CodeKind = Extract<SecretKind, 'totp' | 'recovery-code'>;

export type CodeCheck = { ok: true; recoveryCodesLeft: number | null } | SecretRefusal;

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
	const { userId } = who;
	const checked = await checkSecret(
		event,
		kind,
		{
			ip,
			account: who.account,
			device: knownDevice(event.cookies, userId),
			userId,
			refusedEvent: 'login.throttled',
			method,
			detail: { username: who.account, step: kind }
		},
		async () => {
			if (userId === null) return null;
			if (kind === 'recovery-code') {
				const left = await useRecoveryCode(userId, code);
				return left === null ? null : { left };
			}
			const digits = normaliseTotpCode(code);
			return digits !== null && (await acceptTotpCode(userId, digits)) ? { left: null } : null;
		},
		WRONG[kind]
	);
	if (checked.ok) return { ok: true, recoveryCodesLeft: checked.value.left };
	if (checked.status === 400) {
		await audit({
			event: 'login.failed',
			userId,
			method,
			ip,
			detail: { username: who.account, step: kind, reason: `wrong_${kind}` }
		});
	}
	return checked;
}
