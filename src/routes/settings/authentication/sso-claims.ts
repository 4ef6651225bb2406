// Single Sign-On → "Required claim": the one action that saves it. The decision (and the lock-out
// check) is saveRequiredClaim's, in one transaction on the settings row; this reads the form and
// says the outcome in words.
import { fail } from '@sveltejs/kit';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { readForm } from '$lib/server/form';
import { pathProblem, RULE_LIMITS, saveRequiredClaim, valueProblem } from '$lib/server/sso';
import { CLAIM_TEXT, claimLockOutText } from './sso-messages';
import type { Actions } from './$types';

export type ClaimRuleAnswer = {
	ok: boolean;
	message?: string;
	values: { requiredClaim: string; requiredClaimValues: string };
	errors?: { requiredClaim?: string; requiredClaimValues?: string };
};

/** The accepted values as typed: one a line, blank lines and repeats left out. */
function valuesOf(text: string) {
	return [
		...new Set(
			text
				.split(/\r\n|\r|\n/)
				.map((v) => v.trim())
				.filter(Boolean)
		)
	];
}

function refuse(status: 400 | 409, answer: Omit<ClaimRuleAnswer, 'ok'>) {
	const claimRule: ClaimRuleAnswer = { ok: false, ...answer };
	return fail(status, { claimRule });
}

export const claimActions = {
	saveClaimRule: async (event) => {
		const { user } = requireUser(event);
		const form = await readForm(event.request);
		const field = (name: string) => {
			const value = form.get(name);
			return typeof value === 'string' ? value : '';
		};
		const path = field('requiredClaim').trim();
		const typed = field('requiredClaimValues');
		const values = { requiredClaim: path, requiredClaimValues: typed };
		const list = valuesOf(typed);
		if (path) {
			const problem = pathProblem(path);
			if (problem) return refuse(400, { values, errors: { requiredClaim: problem } });
			if (!list.length)
				return refuse(400, { values, errors: { requiredClaimValues: CLAIM_TEXT.valuesFirst } });
			if (list.length > RULE_LIMITS.values)
				return refuse(400, { values, errors: { requiredClaimValues: CLAIM_TEXT.tooMany } });
			const bad = list.map(valueProblem).find(Boolean);
			if (bad) return refuse(400, { values, errors: { requiredClaimValues: bad } });
		} else if (list.length) {
			return refuse(400, { values, errors: { requiredClaim: CLAIM_TEXT.pathFirst } });
		}
		const rule = { path, values: path ? list : [] };
		const outcome = await saveRequiredClaim(user.id, rule, rpIdFor(event.locals.client.origin));
		if (!outcome.ok) return refuse(409, { values, message: claimLockOutText(outcome) });
		if (outcome.changed)
			await audit({
				event: 'settings.sso_required_claim',
				userId: user.id,
				ip: event.locals.client.ip,
				detail: { claim: rule.path || null, values: rule.values.length }
			});
		const message = !outcome.changed
			? CLAIM_TEXT.nothingChanged
			: rule.path
				? CLAIM_TEXT.saved(rule.path)
				: CLAIM_TEXT.cleared;
		const claimRule: ClaimRuleAnswer = {
			ok: true,
			message,
			values: { requiredClaim: rule.path, requiredClaimValues: rule.values.join('\n') }
		};
		return { claimRule };
	}
} satisfies Actions;
