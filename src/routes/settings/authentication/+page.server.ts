import { fail } from '@sveltejs/kit';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { readForm } from '$lib/server/form';
import * as v from 'valibot';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { setLocalLogin } from '$lib/server/auth/toggles';
import { hashPassword } from '$lib/server/auth/password';
import { checkCurrentPassword } from '$lib/server/auth/current-password';
import { markProved, requireStepUp, stepUpView } from '$lib/server/auth/step-up';
import type { SessionUser } from '$lib/server/auth/session';
import { config } from '$lib/server/config';
import { getSettings } from '$lib/server/settings';
import {
	getPasswordHash,
	getSignInFields,
	updateCredentials,
	UsernameTakenError
} from '$lib/server/users';
import { credentialsSchema } from '$lib/schemas/credentials';
import { fieldErrors, formFields } from '$lib/schemas/fields';
import { redirectUri } from '$lib/server/auth/sources/oidc';
import { LEARNT_TEXT } from '$lib/server/auth/sources/oidc-report';
import { backchannelLogoutUri, postLogoutRedirectUri } from '$lib/server/auth/rp-logout';
import { forwardIdentity, PRESETS, trustLineFor } from '$lib/server/auth/sources/forward';
import { getSsoConfig, identityFits } from '$lib/server/sso';
import { isConfigured } from '$lib/server/sso';
import { rememberSsoSetup } from '$lib/server/sso';
import { ssoActions } from './sso-actions';
import { LINK_ERRORS } from './sso-messages';
import { lastLinkFailure } from '$lib/server/sso';
import { plexActions } from './plex-actions';
import { loginPageActions } from './login-page-actions';
import { loginPageOverview } from '$lib/server/auth/login-page';
import { PLEX_ERRORS } from '$lib/plex-errors';
import { recoveryNotice } from '$lib/server/auth/recovery-codes';
import type { Actions, PageServerLoad } from './$types';

/** What the forward-auth panel tells the admin about the request they are making right now. */
function forwardPanel(
	event: Parameters<PageServerLoad>[0],
	sso: Awaited<ReturnType<typeof getSsoConfig>>
) {
	const { client } = event.locals;
	const result = forwardIdentity(client, event.request.headers, {
		user: sso.forwardAuthUserHeader,
		email: sso.forwardAuthEmailHeader,
		name: sso.forwardAuthNameHeader
	});
	return {
		peer: client.peer,
		trusted: client.peerTrusted,
		trustLine: client.peerTrusted ? null : trustLineFor(client.peer, config.trustedProxies),
		requestSubject: result.ok ? result.identity.subject : null,
		presets: Object.entries(PRESETS).map(([id, p]) => ({ id, label: p.label }))
	};
}

export const load: PageServerLoad = async (event) => {
	const { user: sessionUser, session } = requireUser(event);
	// locals.user was read before this request's form action ran (without JavaScript the page is
	// rendered in that same request): read the fields an action can change again.
	const [fresh, settings, sso, overview, stepUp] = await Promise.all([
		getSignInFields(sessionUser.id),
		getSettings(),
		getSsoConfig(),
		loginPageOverview(sessionUser.id, rpIdFor(event.locals.client.origin)),
		stepUpView(sessionUser, session, event.locals.client.origin)
	]);
	const user: SessionUser = { ...sessionUser, ...fresh };
	// This browser may use the login page's SSO button before SSO is on (to find the subject).
	if (!sso.ssoEnabled && isConfigured(sso))
		rememberSsoSetup(event.cookies, event.locals.secureCookies);
	const params = event.url.searchParams;
	const linkError = params.get('sso_link_error');
	// After a failed Verify & Link, the words the callback recorded (never the query string's).
	const linkErrorDetail =
		linkError === 'token_exchange_failed' || linkError === 'claim_required'
			? await lastLinkFailure(user.id, sso.clientSecret)
			: null;
	return {
		stepUp,
		loginPage: { local: overview.local, plex: overview.plex, preview: overview.preview },
		local: {
			enabled: settings.localAuthEnabled,
			localUsername: user.localUsername,
			hasPassword: user.hasPassword
		},
		sso: {
			override: config.ssoDisableOverride,
			enabled: sso.ssoEnabled,
			mode: sso.ssoMode,
			configured: isConfigured(sso),
			onceSsoIsOn: overview.onceSsoIsOn,
			oidcIssuer: sso.oidcIssuer ?? '',
			oidcClientId: sso.oidcClientId ?? '',
			hasClientSecret: sso.clientSecret !== null,
			clientSecretUnreadable: sso.clientSecretUnreadable,
			oidcClientAuthMethod: sso.oidcClientAuthMethod,
			clientAuthLearnt:
				sso.clientAuthLearnt && sso.clientAuthLearnt !== 'none'
					? LEARNT_TEXT[sso.clientAuthLearnt]
					: null,
			oidcScopes: sso.oidcScopes,
			oidcUsernameClaim: sso.oidcUsernameClaim,
			forwardAuthUserHeader: sso.forwardAuthUserHeader,
			forwardAuthEmailHeader: sso.forwardAuthEmailHeader,
			forwardAuthNameHeader: sso.forwardAuthNameHeader,
			forwardAuthLogoutUrl: sso.forwardAuthLogoutUrl ?? '',
			hasPrevious: sso.hasPrevious,
			redirectUri: redirectUri(event.locals.client.origin),
			postLogoutRedirectUri: postLogoutRedirectUri(event.locals.client.origin),
			backchannelLogoutUri: backchannelLogoutUri(event.locals.client.origin),
			rpLogout: sso.oidcRpLogout,
			autoRedirect: sso.ssoAutoRedirect,
			requiredClaim: {
				path: sso.requiredClaim.path,
				values: sso.requiredClaim.values.join('\n')
			},
			mfa: {
				required: sso.mfa.required,
				amr: sso.mfa.amr.join('\n'),
				acr: sso.mfa.acr.join('\n'),
				maxAgeMinutes: String(sso.mfa.maxAgeMinutes)
			},
			linked: user.ssoSubject
				? { subject: user.ssoSubject, issuer: user.ssoIssuer, provider: user.ssoProvider }
				: null,
			linkFits: identityFits(user, sso.ssoMode, sso.oidcIssuer),
			hasFallback: overview.hasFallback,
			linkedNow: params.get('sso_linked') === '1',
			linkError: linkError && Object.hasOwn(LINK_ERRORS, linkError) ? LINK_ERRORS[linkError] : null,
			linkErrorDetail
		},
		forward: forwardPanel(event, sso),
		recovery: await recoveryNotice(user.id, sso.ssoEnabled, event.locals.session, params),
		plex: {
			linked: user.plexId !== null,
			username: user.plexUsername,
			loginEnabled: settings.plexLoginEnabled,
			linkedNow: params.get('plex_linked') === '1',
			stepUpRefused: params.get('plex_error') === 'step_up',
			error: (() => {
				const code = params.get('plex_error');
				return code && Object.hasOwn(PLEX_ERRORS, code) ? PLEX_ERRORS[code] : null;
			})()
		}
	};
};

export const actions = {
	...ssoActions,
	...plexActions,
	...loginPageActions,

	toggleLocal: async (event) => {
		const { user } = requireUser(event);
		const enable = (await readForm(event.request)).get('enabled') === 'true';
		if (enable && !user.hasPassword) {
			return fail(400, {
				local: {
					message: 'Set a username and password below before turning local sign-in on.',
					ok: false
				}
			});
		}
		if (!(await setLocalLogin(user.id, enable, rpIdFor(event.locals.client.origin))).ok) {
			return fail(409, {
				local: {
					message:
						'Local sign-in is your only way in, so it stays on. Link Plex or set up single sign-on first.',
					ok: false
				}
			});
		}
		await audit({
			event: 'settings.local_login',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { enabled: enable }
		});
		return {
			local: { message: enable ? 'Local sign-in is on.' : 'Local sign-in is off.', ok: true }
		};
	},

	credentials: async (event) => {
		const { user, session } = requireUser(event);
		const raw = await readForm(event.request);
		const form = formFields(raw, [
			'localUsername',
			'currentPassword',
			'newPassword',
			'confirmPassword'
		] as const);
		const values = { localUsername: form.localUsername };
		const parsed = v.safeParse(credentialsSchema, form);
		if (!parsed.success)
			return fail(400, { credentials: { values, errors: fieldErrors(parsed.issues) } });

		const { localUsername, currentPassword, newPassword } = parsed.output;
		if (!user.hasPassword && !newPassword) {
			return fail(400, { credentials: { values, errors: { newPassword: 'Choose a password.' } } });
		}
		// Step-up: with a password, the current one, always (it is being replaced); without one
		// (an SSO or Plex account setting its first), any proof step-up.ts accepts.
		if (await getPasswordHash(user.id)) {
			const checked = await checkCurrentPassword(event, user.id, currentPassword);
			if (!checked.ok) {
				return fail(checked.status, {
					credentials: { values, errors: { currentPassword: checked.message } }
				});
			}
			await markProved(session.id);
		} else {
			const proof = await requireStepUp(event, user, session, raw);
			if (!proof.ok) {
				return fail(proof.status, {
					credentials: { values, errors: { currentPassword: proof.message } },
					stepUp: { message: proof.message, field: proof.field }
				});
			}
		}
		let voided = 0;
		try {
			({ recoveryCodesVoided: voided } = await updateCredentials(user.id, session.id, {
				localUsername,
				passwordHash: newPassword ? await hashPassword(newPassword) : null
			}));
		} catch (error) {
			if (!(error instanceof UsernameTakenError)) throw error;
			return fail(409, {
				credentials: {
					values,
					errors: { localUsername: 'Another account already uses that username.' }
				}
			});
		}
		await audit({
			event: 'settings.credentials',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { localUsername, passwordChanged: Boolean(newPassword), recoveryCodesVoided: voided }
		});
		return {
			credentials: {
				values,
				ok: true,
				message: newPassword
					? 'Credentials saved. Every other session of yours has been signed out.' +
						(voided
							? ` Your ${voided} unused recovery code${voided === 1 ? '' : 's'} no longer work${voided === 1 ? 's' : ''}: make new ones now.`
							: '')
					: 'Username saved.',
				recoveryCodesVoided: voided
			}
		};
	}
} satisfies Actions;
