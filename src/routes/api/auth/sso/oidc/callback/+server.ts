import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { opaqueToken } from '$lib/schemas/fields';
import { audit, auditFailure } from '$lib/server/audit';
import { safeReturnTo } from '$lib/server/auth/redirect';
import { signIn } from '$lib/server/auth/sign-in';
import {
	DiscoveryError,
	finishAuthorization,
	getDiscovery,
	OidcFailure
} from '$lib/server/auth/sources/oidc';
import { sanitizeProviderText } from '$lib/server/auth/sources/oidc-client-auth';
import { checkIdentityClaims, decideSignInMfa, rejectNotLinked } from '$lib/server/sso';
import { startPendingSignIn } from '$lib/server/auth/pending-sign-in';
import { flowCookieName, takeFlow } from '$lib/server/auth/sign-in-flows';
import { useFlowOnce } from '$lib/server/auth/used-flows';
import { log } from '$lib/server/log';
import { getSsoConfig, oidcReady } from '$lib/server/sso';
import { config } from '$lib/server/config';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { linkSsoIdentity } from '$lib/server/sso';
import { LINK_FAILURE_MAX } from '$lib/server/sso';
import { findUserBySsoIdentity } from '$lib/server/users';
import type { RequestHandler } from './$types';

const SETTINGS = '/settings/authentication';

// The provider sends the browser back here. Every check passes or the browser lands on the login
// page (or, for Verify & Link, the settings page) with a banner code and no session.
export const GET: RequestHandler = async (event) => {
	const { url, locals, cookies } = event;
	const ip = locals.client.ip;
	const state = url.searchParams.get('state');
	// No flow cookie at all: nobody started a sign-in in this browser (an old tab, a bookmark of
	// this address, a link, or one older than the cookie's ten minutes). The banner says so.
	const started = cookies.get(flowCookieName('oidc')) !== undefined;
	const tx = v.is(opaqueToken, state)
		? takeFlow(cookies, locals.secureCookies, 'oidc', (flow) => flow.state === state)
		: null;
	if (!tx) {
		log.warn('OIDC callback refused: unknown, used, expired or foreign state', { ip });
		// No state we started: a stranger's request, counted rather than stored (audit.ts).
		await auditFailure({
			event: 'login.failed',
			method: 'oidc',
			ip,
			detail: { reason: 'state_mismatch' }
		});
		redirect(303, `/login?sso_error=state_mismatch${started ? '' : '&flow=none'}`);
	}
	const linking = tx.purpose === 'link';
	const failTo = (code: string) =>
		linking ? `${SETTINGS}?sso_link_error=${code}#sso` : `/login?sso_error=${code}`;

	const sso = await getSsoConfig();
	if (!oidcReady(sso) || (!linking && config.ssoDisableOverride)) {
		redirect(303, failTo('sso_not_configured'));
	}

	let identity;
	try {
		const doc = await getDiscovery(sso.oidcIssuer, sso.ssoConfigVersion);
		identity = await finishAuthorization(sso, doc, locals.client.origin, url.searchParams, {
			nonce: tx.nonce!,
			codeVerifier: tx.codeVerifier!
		});
	} catch (error) {
		const code = error instanceof OidcFailure ? error.code : 'token_exchange_failed';
		const reason =
			error instanceof OidcFailure || error instanceof DiscoveryError
				? error.message
				: String(error);
		log.warn('OIDC sign-in failed', { purpose: tx.purpose, code, reason, ip });
		// A sign-in (no userId) names no account here: counted; a Verify & Link names its user.
		await auditFailure({
			event: linking ? 'sso.link_failed' : 'login.failed',
			method: 'oidc',
			ip,
			userId: tx.userId,
			// The provider's words (sanitised, capped) for the diagnostics bundle's failed flows and
			// for step 2 after a failed Verify & Link (sso/link-failure.ts).
			detail: { reason: code, error: sanitizeProviderText(reason, LINK_FAILURE_MAX) }
		});
		redirect(303, failTo(code));
	}
	// Recorded only now that the provider vouched for it: a stranger's callbacks write nothing here.
	if (!(await useFlowOnce('oidc', tx.state, tx.expiresAt))) {
		log.warn('OIDC callback refused: the state was already used', { ip });
		await auditFailure({
			event: linking ? 'sso.link_failed' : 'login.failed',
			method: 'oidc',
			ip,
			userId: tx.userId,
			detail: { reason: 'state_mismatch' }
		});
		redirect(303, failTo('state_mismatch'));
	}

	if (linking) {
		// Verify & Link: only for the signed-in user who started it, and their session stays.
		if (!locals.user || !locals.session || locals.user.id !== tx.userId)
			redirect(303, failTo('state_mismatch'));
		// "Required claim": an identity that could not sign in is not linked either.
		const claims = await checkIdentityClaims(sso, locals.user.id, identity, {
			purpose: 'link',
			ip
		});
		if (!claims.ok) redirect(303, failTo('claim_required'));
		const linked = await linkSsoIdentity(
			locals.user.id,
			locals.session.id,
			rpIdFor(locals.client.origin),
			{
				via: 'verify',
				issuer: identity.issuer,
				subject: identity.subject
			}
		);
		if (!linked.ok) {
			log.warn('OIDC verify-and-link refused', { reason: linked.reason, ip });
			redirect(303, failTo(linked.reason === 'taken' ? 'already_linked' : 'sso_not_configured'));
		}
		await audit({
			event: 'sso.linked',
			userId: locals.user.id,
			method: 'oidc',
			ip,
			detail: { subject: identity.subject, via: 'verify' }
		});
		redirect(303, `${SETTINGS}?sso_linked=1#sso`);
	}

	const user = await findUserBySsoIdentity('oidc', identity.issuer, identity.subject);
	if (!user) {
		await rejectNotLinked('oidc', identity.subject, ip);
		redirect(303, '/login?sso_error=not_linked');
	}
	const claims = await checkIdentityClaims(sso, user.id, identity, { purpose: 'sign-in', ip });
	if (!claims.ok) redirect(303, '/login?sso_error=claim_required');
	if (!sso.ssoEnabled) {
		// The probe flow: it shows the subject in the log, and never signs anyone in.
		await audit({
			event: 'login.failed',
			userId: user.id,
			method: 'oidc',
			ip,
			detail: { reason: 'sso_disabled' }
		});
		redirect(303, '/login?sso_error=sso_not_configured');
	}
	const session = {
		ssoSubject: identity.subject,
		displayName: identity.displayName,
		email: identity.email,
		oidc: { idToken: identity.idToken, sid: identity.sid, issuer: identity.issuer }
	};
	// "Require two-factor for SSO sign-ins": proven by the provider, or asked here (sso/mfa.ts).
	const mfa = await decideSignInMfa(sso, user.id, identity, {
		ip,
		rpId: rpIdFor(locals.client.origin)
	});
	if (mfa.kind === 'refuse') redirect(303, '/login?sso_error=mfa_required');
	if (mfa.kind === 'second-step') {
		await startPendingSignIn(cookies, locals.secureCookies, {
			userId: user.id,
			account: mfa.factors.account,
			returnTo: safeReturnTo(tx.returnTo),
			ip,
			sso: session
		});
		redirect(303, '/login/code');
	}
	await signIn(event, user.id, 'oidc', session);
	redirect(303, safeReturnTo(tx.returnTo));
};
