// Settings → Security: the authenticator app (TOTP) and the recovery codes. Thin: the work is in
// $lib/server/auth/totp.ts and recovery-codes.ts; this maps their answers to words.
import { fail, type RequestEvent } from '@sveltejs/kit';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { checkCurrentPassword } from '$lib/server/auth/current-password';
import { regenerateRecoveryCodes, unusedRecoveryCodes } from '$lib/server/auth/recovery-codes';
import { checkCode } from '$lib/server/auth/second-step';
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

const totpFail = (status: number, message: string) =>
	fail(status, { totp: { ok: false, message } });

async function newCodes(userId: number, ip: string, reason: string) {
	const codes = await regenerateRecoveryCodes(userId);
	await audit({ event: 'recovery_codes.created', userId, ip, detail: { reason } });
	return codes;
}

export const twoFactorActions = {
	totpBegin: async (event: RequestEvent) => {
		const { user } = requireUser(event);
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
		const { user } = requireUser(event);
		const form = formFields(await readForm(event.request), ['code'] as const);
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
		return {
			totp: {
				ok: true,
				message: 'The authenticator app is on: sign-ins with the password ask for a code.'
			},
			recovery: codes && { codes }
		};
	},

	totpDisable: async (event: RequestEvent) => {
		const { user } = requireUser(event);
		const form = formFields(await readForm(event.request), ['currentPassword', 'code'] as const);
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
		await disableTotp(user.id);
		await audit({ event: 'totp.disabled', userId: user.id, ip: event.locals.client.ip });
		return { totp: { ok: true, message: 'The authenticator app is off.' } };
	},

	recoveryCodes: async (event: RequestEvent) => {
		const { user } = requireUser(event);
		const codes = await newCodes(user.id, event.locals.client.ip, 'asked');
		return { recovery: { codes } };
	}
};
