// Step 2 of Single Sign-On: link an identity (Verify & Link via OIDC, the identity of this
// forward-auth request, or a pasted subject) and unlink it.
import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { readForm } from '$lib/server/form';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { requireStepUp, type StepUpResult } from '$lib/server/auth/step-up';
import { forwardIdentity } from '$lib/server/auth/sources/forward';
import { DiscoveryError, getDiscovery, startAuthorization } from '$lib/server/auth/sources/oidc';
import { startFlow } from '$lib/server/auth/sign-in-flows';
import { getSsoConfig, oidcReady } from '$lib/server/sso';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { linkSsoIdentity, unlinkSsoIdentity, type LinkRefusal } from '$lib/server/sso';
import { subjectSchema } from '$lib/schemas/sso';
import { ssoDone, ssoFail } from './sso-answer';
import { reenabledText, SSO_TEXT } from './sso-messages';
import type { Actions } from './$types';

/** Refusals of "Link Manually" that belong under its field. */
const MANUAL_FIELD_ERRORS: Partial<Record<LinkRefusal, string>> = {
	'multi-tenant': SSO_TEXT.multiTenantManual,
	taken: SSO_TEXT.subjectTaken
};

function linkRefusal(reason: LinkRefusal, header: string): string {
	switch (reason) {
		case 'oidc-not-configured':
			return SSO_TEXT.saveOidcFirst;
		case 'forward-not-configured':
			return SSO_TEXT.saveForwardFirst;
		case 'untrusted_proxy':
			return SSO_TEXT.untrustedRequest;
		case 'missing_user_header':
			return SSO_TEXT.missingHeader(header);
		case 'taken':
			return SSO_TEXT.identityTaken;
		case 'multi-tenant':
			return SSO_TEXT.multiTenantManual;
		case 'would-lock-out':
			return SSO_TEXT.linkLocksOut;
	}
}

/** Linking adds a way in: refused without proof, answered in step 2 (and under the manual form). */
function proofRefused(proof: Extract<StepUpResult, { ok: false }>, manual?: { subject: string }) {
	const stepUp = { message: proof.message, field: proof.field };
	return ssoFail(proof.status, {
		step: 2,
		ok: false,
		message: proof.message,
		stepUp,
		...(manual && { manual: true, subject: manual.subject })
	});
}

export const linkingActions = {
	verifyLink: async (event) => {
		const { user, session } = requireUser(event);
		// Checked here, before leaving for the provider: the callback only finishes what a proven
		// session began (the transaction is bound to this user and browser).
		const proof = await requireStepUp(event, user, session, await readForm(event.request));
		if (!proof.ok) return proofRefused(proof);
		const sso = await getSsoConfig();
		if (!oidcReady(sso)) {
			return ssoFail(409, { step: 2, ok: false, message: SSO_TEXT.saveOidcFirst });
		}
		let doc;
		try {
			doc = await getDiscovery(sso.oidcIssuer, sso.ssoConfigVersion);
		} catch (error) {
			const message = error instanceof DiscoveryError ? error.message : SSO_TEXT.discoveryFailed;
			return ssoFail(502, { step: 2, ok: false, message });
		}
		const { url, state, nonce, codeVerifier } = startAuthorization(
			sso,
			doc,
			event.locals.client.origin
		);
		startFlow(event.cookies, event.locals.secureCookies, 'oidc', {
			purpose: 'link',
			state,
			nonce,
			codeVerifier,
			returnTo: null,
			userId: user.id
		});
		redirect(303, url.toString());
	},

	linkManual: async (event) => {
		const { user, session } = requireUser(event);
		const form = await readForm(event.request);
		const raw = form.get('subject');
		const proof = await requireStepUp(event, user, session, form);
		if (!proof.ok)
			return proofRefused(proof, { subject: typeof raw === 'string' ? raw.slice(0, 255) : '' });
		const parsed = v.safeParse(subjectSchema, typeof raw === 'string' ? raw : '');
		if (!parsed.success) {
			return ssoFail(400, {
				step: 2,
				manual: true,
				subject: typeof raw === 'string' ? raw.slice(0, 255) : '',
				errors: { subject: parsed.issues[0].message }
			});
		}
		const subject = parsed.output;
		const outcome = await linkSsoIdentity(
			user.id,
			session.id,
			rpIdFor(event.locals.client.origin),
			{ via: 'manual', subject }
		);
		if (!outcome.ok) {
			const field = MANUAL_FIELD_ERRORS[outcome.reason];
			if (field)
				return ssoFail(409, { step: 2, manual: true, subject, errors: { subject: field } });
			return ssoFail(409, { step: 2, ok: false, message: linkRefusal(outcome.reason, '') });
		}
		await audit({
			event: 'sso.linked',
			userId: user.id,
			method: outcome.identity.provider,
			ip: event.locals.client.ip,
			detail: { subject, via: 'manual' }
		});
		return ssoDone({ step: 2, ok: true, message: SSO_TEXT.linked });
	},

	linkFromRequest: async (event) => {
		const { user, session } = requireUser(event);
		const proof = await requireStepUp(event, user, session, await readForm(event.request));
		if (!proof.ok) return proofRefused(proof);
		let header = '';
		const outcome = await linkSsoIdentity(
			user.id,
			session.id,
			rpIdFor(event.locals.client.origin),
			{
				via: 'request',
				identify: (sso) => {
					header = sso.forwardAuthUserHeader;
					return forwardIdentity(event.locals.client, event.request.headers, {
						user: sso.forwardAuthUserHeader,
						email: sso.forwardAuthEmailHeader,
						name: sso.forwardAuthNameHeader
					});
				}
			}
		);
		if (!outcome.ok) {
			return ssoFail(409, { step: 2, ok: false, message: linkRefusal(outcome.reason, header) });
		}
		const { subject } = outcome.identity;
		await audit({
			event: 'sso.linked',
			userId: user.id,
			method: 'forward-auth',
			ip: event.locals.client.ip,
			detail: { subject, via: 'request' }
		});
		return ssoDone({ step: 2, ok: true, message: SSO_TEXT.linkedRequest(subject) });
	},

	unlink: async (event) => {
		const { user, session } = requireUser(event);
		const outcome = await unlinkSsoIdentity(
			user.id,
			session.id,
			rpIdFor(event.locals.client.origin)
		);
		if (!outcome.ok) {
			const message = outcome.reason === 'not-linked' ? SSO_TEXT.notLinked : SSO_TEXT.unlinkRefused;
			return ssoFail(409, { step: 2, ok: false, message });
		}
		const { reenable } = outcome;
		await audit({
			event: 'sso.unlinked',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { reenabledLocal: reenable.local, reenabledPlex: reenable.plex }
		});
		return ssoDone({ step: 2, ok: true, message: SSO_TEXT.unlinked + reenabledText(reenable) });
	}
} satisfies Actions;
