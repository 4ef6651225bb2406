// Step 2 of Single Sign-On: link an identity (Verify & Link via OIDC, the identity of this
// forward-auth request, or a pasted subject) and unlink it.
import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { readForm } from '$lib/server/form';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { forwardIdentity } from '$lib/server/auth/sources/forward';
import { DiscoveryError, getDiscovery, startAuthorization } from '$lib/server/auth/sources/oidc';
import { beginTransaction } from '$lib/server/auth/transactions';
import { getSettings } from '$lib/server/settings';
import {
	FORWARD_AUTH_ISSUER,
	isMultiTenantIssuer,
	getSsoConfig,
	fallbackFor
} from '$lib/server/sso';
import { linkIdentity, LinkConflictError, unlinkIdentity } from '$lib/server/users';
import { subjectSchema } from '$lib/schemas/sso';
import { ssoDone, ssoFail } from './sso-answer';
import { reenabledText, SSO_TEXT } from './sso-messages';
import type { Actions } from './$types';

export const linkingActions = {
	verifyLink: async (event) => {
		const { user } = requireUser(event);
		const sso = await getSsoConfig();
		if (sso.ssoMode !== 'OIDC' || !sso.oidcIssuer || !sso.oidcClientId) {
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
		await beginTransaction(event.cookies, event.locals.secureCookies, {
			kind: 'oidc',
			purpose: 'link',
			ip: event.locals.client.ip,
			state,
			nonce,
			codeVerifier,
			userId: user.id
		});
		redirect(303, url.toString());
	},

	linkManual: async (event) => {
		const { user, session } = requireUser(event);
		const raw = (await readForm(event.request)).get('subject');
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
		const sso = await getSsoConfig();
		const forward = sso.ssoMode === 'FORWARD_AUTH';
		if (!forward && !sso.oidcIssuer) {
			return ssoFail(409, { step: 2, ok: false, message: SSO_TEXT.saveOidcFirst });
		}
		if (!forward && isMultiTenantIssuer(sso.oidcIssuer)) {
			return ssoFail(409, {
				step: 2,
				manual: true,
				subject,
				errors: { subject: SSO_TEXT.multiTenantManual }
			});
		}
		const identity = {
			provider: forward ? ('forward-auth' as const) : ('oidc' as const),
			issuer: forward ? FORWARD_AUTH_ISSUER : sso.oidcIssuer!,
			subject
		};
		try {
			await linkIdentity(user.id, session.id, identity);
		} catch (error) {
			if (!(error instanceof LinkConflictError)) throw error;
			return ssoFail(409, {
				step: 2,
				manual: true,
				subject,
				errors: { subject: SSO_TEXT.subjectTaken }
			});
		}
		await audit({
			event: 'sso.linked',
			userId: user.id,
			method: identity.provider,
			ip: event.locals.client.ip,
			detail: { subject, via: 'manual' }
		});
		return ssoDone({ step: 2, ok: true, message: SSO_TEXT.linked });
	},

	linkFromRequest: async (event) => {
		const { user, session } = requireUser(event);
		const sso = await getSsoConfig();
		// Linking a forward-auth identity in OIDC mode would replace a working OIDC link with one
		// that SSO in this mode does not accept.
		if (sso.ssoMode !== 'FORWARD_AUTH') {
			return ssoFail(409, { step: 2, ok: false, message: SSO_TEXT.saveForwardFirst });
		}
		const result = forwardIdentity(event.locals.client, event.request.headers, {
			user: sso.forwardAuthUserHeader,
			email: sso.forwardAuthEmailHeader,
			name: sso.forwardAuthNameHeader
		});
		if (!result.ok) {
			const message =
				result.reason === 'untrusted_proxy'
					? SSO_TEXT.untrustedRequest
					: SSO_TEXT.missingHeader(sso.forwardAuthUserHeader);
			return ssoFail(409, { step: 2, ok: false, message });
		}
		const subject = result.identity.subject;
		try {
			await linkIdentity(user.id, session.id, {
				provider: 'forward-auth',
				issuer: FORWARD_AUTH_ISSUER,
				subject
			});
		} catch (error) {
			if (!(error instanceof LinkConflictError)) throw error;
			return ssoFail(409, { step: 2, ok: false, message: SSO_TEXT.identityTaken });
		}
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
		if (!user.ssoSubject) return ssoFail(409, { step: 2, ok: false, message: SSO_TEXT.notLinked });
		// The local form (or the Plex button) must be there once SSO is off.
		const settings = await getSettings();
		const reenable = fallbackFor(settings, {
			hasPassword: user.hasPassword,
			hasPlex: !!user.plexId
		});
		if (!reenable) return ssoFail(409, { step: 2, ok: false, message: SSO_TEXT.unlinkRefused });
		await unlinkIdentity(user.id, session.id, reenable);
		await audit({
			event: 'sso.unlinked',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { reenabledLocal: reenable.local, reenabledPlex: reenable.plex }
		});
		return ssoDone({ step: 2, ok: true, message: SSO_TEXT.unlinked + reenabledText(reenable) });
	}
} satisfies Actions;
