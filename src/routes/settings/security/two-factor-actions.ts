// Settings → Security: the authenticator app (TOTP) and the recovery codes. Thin: the work is in
// $lib/server/auth/totp.ts and recovery-codes.ts; this maps their answers to words.
// Making codes and setting the app up add a way in: each asks step-up.ts for proof first.
import { fail, type RequestEvent } from '@sveltejs/kit';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { checkCurrentPassword } from '$lib/server/auth/current-password';
import { regenerateRecoveryCodes, unusedRecoveryCodes } from '$lib/server/auth/recovery-codes';
import { checkCode } from '$lib/server/auth/second-step';
import { revokeOtherSessions } from '$lib/server/auth/sessions-list';
import { requireStepUp, type StepUpResult } from '$lib/server/auth/step-up';
import {
	beginTotpEnrollment,
	confirmTotpEnrollment,
	disableTotp,
	enrollmentView,
	getTotpState,
	normaliseTotpCode
} from '$lib/server/auth/totp';
import type { SessionUser } from '$lib/server/auth/session';
import { formFields } from '$lib/schemas/fields';
import { readForm } from '$lib/server/form';

/** What the two sections show. The secret being enrolled is shown only until it is confirmed. */
export async function loadTwoFactor(user: SessionUser) {
	const [totp, recoveryCodesLeft] = await Promise.all([
		getTotpState(user.id),
		unusedRecoveryCodes(user.id)
	]);
	const enrolling =
		!totp.enabled && totp.pendingSecret
			? enrollmentView(totp.pendingSecret, user.localUsername ?? user.username)
			: null;
	return {
		hasPassword: user.hasPassword,
		totpEnabled: totp.enabled,
		totpEnabledAt: totp.enabledAt?.toISOString() ?? null,
		enrolling: enrolling && { qrSvg: enrolling.qrSvg, secretText: enrolling.secretText },
		recoveryCodesLeft
	};
}

const TOTP_OFF_LOCKS_OUT =
	'The authenticator app stays on: two-factor is required for SSO sign-ins, and without it your SSO sign-ins would be refused (your provider did not show a second factor and you have no passkey here). Add a passkey, or turn “Require two-factor for SSO sign-ins” off in Settings → Authentication, first.';

const totpFail = (status: number, message: string) =>
	fail(status, { totp: { ok: false, message } });

type Refused = Extract<StepUpResult, { ok: false }>;
const totpRefused = (proof: Refused) =>
	fail(proof.status, { totp: { ok: false, message: proof.message }, stepUp: proof });
const recoveryRefused = (proof: Refused) =>
	fail(proof.status, { recovery: { error: proof.message }, stepUp: proof });

/**
 * "Sign out all other sessions" (checked by default beside every change of a second step): a
 * copied cookie that may have been used to see or change it ends with the change.
 */
async function signOutOthersIfAsked(event: RequestEvent, form: FormData) {
	if (form.get('signOutOthers') !== 'on') return 0;
	const { user, session } = requireUser(event);
	const count = await revokeOtherSessions(user.id, session.id);
	if (count) {
		await audit({
			event: 'session.revoked',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { sessions: count, others: true }
		});
	}
	return count;
}

const othersText = (count: number) =>
	count ? ` Signed out ${count} other session${count === 1 ? '' : 's'}.` : '';

async function newCodes(userId: number, ip: string, reason: string) {
	const codes = await regenerateRecoveryCodes(userId);
	await audit({ event: 'recovery_codes.created', userId, ip, detail: { reason } });
	return codes;
}

export const twoFactorActions = {
	totpBegin: async (event: RequestEvent) => {
		const { user, session } = requireUser(event);
		const proof = await requireStepUp(event, user, session, await readForm(event.request));
		if (!proof.ok) return totpRefused(proof);
		if (!user.hasPassword) {
			return totpFail(400, 'Set a password first: the authenticator code is asked after it.');
		}
		if ((await getTotpState(user.id)).enabled) {
			return totpFail(409, 'The authenticator app is already on.');
		}
		await beginTotpEnrollment(user.id);
		return { totp: { ok: true, message: 'Scan the QR code, then enter the code your app shows.' } };
	},

	totpEnable: async (event: RequestEvent) => {
		const { user, session } = requireUser(event);
		const raw = await readForm(event.request);
		const proof = await requireStepUp(event, user, session, raw);
		if (!proof.ok) return totpRefused(proof);
		const form = formFields(raw, ['code'] as const);
		const code = normaliseTotpCode(form.code);
		if (!code) return totpFail(400, 'Enter the six digits your app shows.');
		const result = await confirmTotpEnrollment(user.id, code);
		if (result === 'no-pending') {
			return totpFail(409, 'Start again with “Set up authenticator app”: that setup has ended.');
		}
		if (result === 'wrong-code') {
			return totpFail(400, 'That code is not right. Check the time on your phone, then try again.');
		}
		const ip = event.locals.client.ip;
		await audit({ event: 'totp.enabled', userId: user.id, ip });
		// Offered at once when there is none left, so that losing the phone is not a lock-out.
		const codes =
			(await unusedRecoveryCodes(user.id)) === 0 ? await newCodes(user.id, ip, 'totp') : null;
		const others = await signOutOthersIfAsked(event, raw);
		return {
			totp: {
				ok: true,
				message:
					'The authenticator app is on: sign-ins with the password ask for a code.' +
					othersText(others)
			},
			recovery: codes && { codes }
		};
	},

	totpDisable: async (event: RequestEvent) => {
		const { user } = requireUser(event);
		const raw = await readForm(event.request);
		const form = formFields(raw, ['currentPassword', 'code'] as const);
		const password = await checkCurrentPassword(event, user.id, form.currentPassword);
		if (!password.ok) return totpFail(password.status, password.message);
		const code = await checkCode(
			event,
			{ userId: user.id, account: `user:${user.id}` },
			'totp',
			form.code,
			'settings'
		);
		if (!code.ok) return totpFail(code.status, code.message);
		const off = await disableTotp(user.id, rpIdFor(event.locals.client.origin));
		if (off === 'sso-mfa-lock-out') return totpFail(409, TOTP_OFF_LOCKS_OUT);
		await audit({ event: 'totp.disabled', userId: user.id, ip: event.locals.client.ip });
		const others = await signOutOthersIfAsked(event, raw);
		return { totp: { ok: true, message: 'The authenticator app is off.' + othersText(others) } };
	},

	recoveryCodes: async (event: RequestEvent) => {
		const { user, session } = requireUser(event);
		const form = await readForm(event.request);
		const proof = await requireStepUp(event, user, session, form);
		if (!proof.ok) return recoveryRefused(proof);
		const codes = await newCodes(user.id, event.locals.client.ip, 'asked');
		const others = await signOutOthersIfAsked(event, form);
		return { recovery: { codes, others } };
	}
};
