// Single Sign-On → "Require two-factor for SSO sign-ins": the one action that saves it. The
// decision (and the lock-out check) is saveMfaSetting's, in one transaction on the settings row;
// this reads the form and says the outcome in words.
import { fail } from '@sveltejs/kit';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { readForm } from '$lib/server/form';
import { MFA_LIMITS, mfaValueProblem, saveMfaSetting } from '$lib/server/sso';
import { MFA_TEXT } from './sso-messages';
import type { Actions } from './$types';

type Fields = { mfaAmr: string; mfaAcr: string; mfaMaxAgeMinutes: string };

export type MfaAnswer = {
	ok: boolean;
	message?: string;
	values: Fields & { mfaRequired: boolean };
	errors?: Partial<Record<keyof Fields, string>>;
};

/** The values as typed: one a line or separated by spaces or commas; repeats left out. */
function listOf(text: string) {
	return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

function refuse(status: 400 | 409, answer: Omit<MfaAnswer, 'ok'>) {
	const mfa: MfaAnswer = { ok: false, ...answer };
	return fail(status, { mfa });
}

/** Why a list cannot be used, or null. */
function listProblem(list: string[]) {
	if (list.length > MFA_LIMITS.values) return MFA_TEXT.tooMany;
	return list.map(mfaValueProblem).find(Boolean) ?? null;
}

export const mfaActions = {
	saveSsoMfa: async (event) => {
		const { user } = requireUser(event);
		const form = await readForm(event.request);
		const field = (name: string) => {
			const value = form.get(name);
			return typeof value === 'string' ? value.slice(0, 10_000) : '';
		};
		const values = {
			mfaRequired: form.get('mfaRequired') === 'on',
			mfaAmr: field('mfaAmr'),
			mfaAcr: field('mfaAcr'),
			mfaMaxAgeMinutes: field('mfaMaxAgeMinutes').trim()
		};
		const amr = listOf(values.mfaAmr);
		const acr = listOf(values.mfaAcr);
		const amrProblem = listProblem(amr);
		if (amrProblem) return refuse(400, { values, errors: { mfaAmr: amrProblem } });
		const acrProblem = listProblem(acr);
		if (acrProblem) return refuse(400, { values, errors: { mfaAcr: acrProblem } });
		if (values.mfaRequired && amr.length === 0 && acr.length === 0)
			return refuse(400, { values, errors: { mfaAmr: MFA_TEXT.nothingAccepted } });
		const age = /^\d{1,6}$/.test(values.mfaMaxAgeMinutes) ? Number(values.mfaMaxAgeMinutes) : NaN;
		if (!(age >= MFA_LIMITS.minAgeMinutes && age <= MFA_LIMITS.maxAgeMinutes))
			return refuse(400, { values, errors: { mfaMaxAgeMinutes: MFA_TEXT.age } });
		const setting = { required: values.mfaRequired, amr, acr, maxAgeMinutes: age };
		const outcome = await saveMfaSetting(user.id, setting, rpIdFor(event.locals.client.origin));
		if (!outcome.ok) return refuse(409, { values, message: MFA_TEXT.lockOut });
		if (outcome.changed)
			await audit({
				event: 'settings.sso_mfa',
				userId: user.id,
				ip: event.locals.client.ip,
				detail: {
					required: setting.required,
					amr: amr.join(' '),
					acr: acr.join(' '),
					maxAgeMinutes: age
				}
			});
		const mfa: MfaAnswer = {
			ok: true,
			message: !outcome.changed
				? MFA_TEXT.nothingChanged
				: setting.required
					? MFA_TEXT.on
					: MFA_TEXT.off,
			values: {
				mfaRequired: setting.required,
				mfaAmr: amr.join('\n'),
				mfaAcr: acr.join('\n'),
				mfaMaxAgeMinutes: String(age)
			}
		};
		return { mfa };
	}
} satisfies Actions;
