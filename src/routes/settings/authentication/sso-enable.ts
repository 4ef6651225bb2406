// Step 3 of Single Sign-On: the switch and its two options. The decision is setSsoEnabled's
// (one transaction on the settings row); this action maps its refusals to words.
import { rpIdFor } from '$lib/server/auth/passkeys';
import { readForm } from '$lib/server/form';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { forwardEnableRefusal } from '$lib/server/auth/sources/forward';
import { setSsoEnabled } from '$lib/server/sso';
import { ssoDone, ssoFail } from './sso-answer';
import {
	claimLockOutText,
	MFA_TEXT,
	reenabledText,
	SSO_TEXT,
	SWITCH_REFUSALS
} from './sso-messages';
import type { Actions } from './$types';

export const enableActions = {
	saveSso: async (event) => {
		const { user } = requireUser(event);
		const form = await readForm(event.request);
		const enable = form.get('ssoEnabled') === 'on';
		const rpLogout = form.get('oidcRpLogout') === 'on';
		// Offered only while SSO is on: switching SSO off switches it off too.
		const autoRedirect = enable && form.get('ssoAutoRedirect') === 'on';
		const outcome = await setSsoEnabled(
			user.id,
			{ enable, rpLogout, autoRedirect },
			(sso, subject) =>
				forwardEnableRefusal(event.locals.client, event.request.headers, sso, subject),
			rpIdFor(event.locals.client.origin)
		);
		if (!outcome.ok) {
			const message =
				outcome.reason === 'proof'
					? outcome.message
					: outcome.reason === 'claims-unseen' || outcome.reason === 'claims-refused'
						? claimLockOutText(outcome)
						: outcome.reason === 'mfa-unproven'
							? MFA_TEXT.lockOut
							: SWITCH_REFUSALS[outcome.reason];
			return ssoFail(409, { step: 3, ok: false, message });
		}
		await audit({
			event: 'settings.sso_enabled',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { enabled: enable, rpLogout, autoRedirect }
		});
		return ssoDone({
			step: 3,
			ok: true,
			message: enable ? SSO_TEXT.ssoOn : SSO_TEXT.ssoOff + reenabledText(outcome.reenable),
			warning: outcome.ssoOnlyWay ? SSO_TEXT.noFallback : null
		});
	}
} satisfies Actions;
