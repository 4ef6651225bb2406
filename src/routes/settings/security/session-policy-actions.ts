// Settings → Security, "Sessions": the session policy (absolute lifetime, idle timeout). A plain
// form action, so it works without JavaScript. Making sessions last longer needs step-up (a copied
// cookie must not lengthen its own life); shortening does not. The rule and its one statement are
// in $lib/server/auth/session-policy.ts.
import { fail, type RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import { readForm } from '$lib/server/form';
import { requireUser } from '$lib/server/auth/guard';
import { getSessionPolicy, saveSessionPolicy } from '$lib/server/auth/session-policy';
import { requireStepUp } from '$lib/server/auth/step-up';
import { formFields } from '$lib/schemas/fields';
import {
	hoursText,
	lengthens,
	sessionPolicySchema,
	type SessionPolicy
} from '$lib/schemas/session-policy';

const LONGER_NEEDS_PROOF =
	'Nothing was changed: letting sessions last longer needs you to confirm it is you, below.';

function saidPolicy({ lifetimeHours, idleHours }: SessionPolicy) {
	const idle =
		idleHours === null ? 'no idle timeout' : `an idle timeout of ${hoursText(idleHours)}`;
	return `Sessions now last ${hoursText(lifetimeHours)} from sign-in, with ${idle}. Sessions already open follow it from their next request.`;
}

export const sessionPolicyActions = {
	sessionPolicy: async (event: RequestEvent) => {
		const { user, session } = requireUser(event);
		const raw = await readForm(event.request);
		const form = formFields(raw, ['lifetimeHours', 'idleHours'] as const);
		// What the form sent goes back as it was (bounded), so a refusal keeps the choice shown.
		const values = {
			lifetimeHours: form.lifetimeHours.slice(0, 10),
			idleHours: form.idleHours.slice(0, 10)
		};
		const parsed = v.safeParse(sessionPolicySchema, form);
		if (!parsed.success) {
			return fail(400, { sessionPolicy: { ok: false, message: parsed.issues[0].message, values } });
		}
		const next = parsed.output;
		const current = await getSessionPolicy();
		if (lengthens(current, next)) {
			const proof = await requireStepUp(event, user, session, raw);
			if (!proof.ok) {
				return fail(proof.status, {
					// The proof's own words show with its fields (StepUp); this says what happened.
					sessionPolicy: { ok: false, message: LONGER_NEEDS_PROOF, values },
					stepUp: proof
				});
			}
		}
		const saved = await saveSessionPolicy(current, next, {
			userId: user.id,
			ip: event.locals.client.ip
		});
		if (!saved) {
			return fail(409, {
				sessionPolicy: {
					ok: false,
					message:
						'The session policy was changed meanwhile (another tab?). Check it and save again.',
					values
				}
			});
		}
		return { sessionPolicy: { ok: true, message: saidPolicy(next), values } };
	}
};
