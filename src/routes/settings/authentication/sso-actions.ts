// Settings → Authentication → Single Sign-On: the three steps' form actions.
// Each is a run of guard clauses ending in fail(status, { sso: … }) or a success message;
// secrets are never sent back.
import { fail, redirect, type RequestEvent } from '@sveltejs/kit';
import { readForm } from '$lib/server/form';
import * as v from 'valibot';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { forwardIdentity, PRESETS } from '$lib/server/auth/sources/forward';
import {
	DiscoveryError,
	fetchDiscovery,
	getDiscovery,
	startAuthorization
} from '$lib/server/auth/sources/oidc';
import { describeProvider } from '$lib/server/auth/sources/oidc-report';
import { beginTransaction } from '$lib/server/auth/transactions';
import { getSettings } from '$lib/server/settings';
import {
	CLIENT_AUTH_SETTINGS,
	type ClientAuthSetting,
	FORWARD_AUTH_ISSUER,
	isMultiTenantIssuer,
	forwardEnableRefusal,
	setSsoEnabled,
	getSsoConfig,
	reenabledText,
	revertConnection,
	fallbackFor,
	WouldLockOut,
	saveConnection
} from '$lib/server/sso';
import { linkIdentity, LinkConflictError, unlinkIdentity } from '$lib/server/users';
import { fieldErrors, formFields } from '$lib/schemas/fields';
import { connectionSchema, subjectSchema } from '$lib/schemas/sso';

type Event = RequestEvent;

const LOCKOUT =
	'That change would switch SSO login off, and you have no local password and no Plex link to get back in. Set a password or link Plex first.';

const CONNECTION_FIELDS = [
	'ssoMode',
	'oidcIssuer',
	'oidcClientId',
	'oidcClientSecret',
	'clearClientSecret',
	'oidcClientAuthMethod',
	'oidcScopes',
	'oidcUsernameClaim',
	'forwardAuthUserHeader',
	'forwardAuthEmailHeader',
	'forwardAuthNameHeader'
] as const;

function echo(form: Record<(typeof CONNECTION_FIELDS)[number], string>) {
	const { oidcClientSecret: _never, ...values } = form;
	return values;
}

async function parseConnection(event: Event) {
	const form = formFields(await readForm(event.request), CONNECTION_FIELDS);
	if (!form.clearClientSecret)
		(form as Record<string, string | undefined>).clearClientSecret = undefined;
	return { form, parsed: v.safeParse(connectionSchema, form) };
}

/** Why step 3's switch was refused (the forward-auth proof brings its own words). */
const SWITCH_REFUSALS = {
	override: 'SSO_DISABLE_OVERRIDE is set: SSO cannot be enabled until it is removed.',
	'not-configured': 'Save an OIDC configuration in step 1 first.',
	'not-linked':
		'Link your identity for the current SSO settings in step 2 before enabling SSO login.',
	'would-lock-out': LOCKOUT
} as const;

export const ssoActions = {
	saveConnection: async (event: Event) => {
		const { user } = requireUser(event);
		const { form, parsed } = await parseConnection(event);
		if (!parsed.success) {
			return fail(400, {
				sso: { step: 1, values: echo(form), errors: fieldErrors(parsed.issues) }
			});
		}
		const input = parsed.output;
		let result;
		try {
			result = await saveConnection(
				{
					...input,
					clientSecret: input.clearClientSecret
						? null
						: input.oidcClientSecret
							? input.oidcClientSecret
							: undefined
				},
				user.id
			);
		} catch (error) {
			if (!(error instanceof WouldLockOut)) throw error;
			return fail(409, { sso: { step: 1, values: echo(form), ok: false, message: LOCKOUT } });
		}
		await audit({
			event: 'settings.sso_connection',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: {
				changed: result.changed.join(',') || 'nothing',
				ssoSwitchedOff: result.ssoSwitchedOff
			}
		});
		const message = !result.changed.length
			? 'Nothing changed.'
			: result.ssoSwitchedOff
				? 'Configuration saved. SSO login was switched off because your linked identity does not belong to the new settings; link again in step 2.' +
					reenabledText(result.reenabled)
				: 'Configuration saved. The previous settings can be restored with Revert to Previous.';
		return { sso: { step: 1, ok: true, message } };
	},

	testDiscovery: async (event: Event) => {
		requireUser(event);
		const { form, parsed } = await parseConnection(event);
		const issuer = parsed.success ? parsed.output.oidcIssuer : null;
		if (!parsed.success && parsed.issues.some((i) => v.getDotPath(i) === 'oidcIssuer')) {
			return fail(400, {
				sso: { step: 1, values: echo(form), errors: fieldErrors(parsed.issues) }
			});
		}
		const target = issuer ?? form.oidcIssuer.trim();
		if (!target)
			return fail(400, {
				sso: { step: 1, values: echo(form), errors: { oidcIssuer: 'Enter the issuer URL first.' } }
			});
		let doc;
		try {
			doc = await fetchDiscovery(target);
		} catch (error) {
			const message = error instanceof DiscoveryError ? error.message : 'OIDC discovery failed';
			return fail(502, { sso: { step: 1, values: echo(form), discovery: { ok: false, message } } });
		}
		// The report judges the form as filled in: a typed secret, or the saved one unless it is
		// being removed.
		const saved = await getSsoConfig();
		const method = parsed.success
			? parsed.output.oidcClientAuthMethod
			: (((CLIENT_AUTH_SETTINGS as readonly string[]).includes(form.oidcClientAuthMethod)
					? form.oidcClientAuthMethod
					: 'auto') as ClientAuthSetting);
		const report = describeProvider(doc, {
			hasSecret:
				!!form.oidcClientSecret || (saved.clientSecret !== null && !form.clearClientSecret),
			clientAuthMethod: method,
			usernameClaim: parsed.success
				? parsed.output.oidcUsernameClaim
				: form.oidcUsernameClaim.trim() || 'preferred_username'
		});
		return {
			sso: {
				step: 1,
				values: echo(form),
				discovery: { ok: true, message: 'Discovery succeeded.', ...report }
			}
		};
	},

	revert: async (event: Event) => {
		const { user } = requireUser(event);
		let reenabled;
		try {
			reenabled = await revertConnection(user.id);
		} catch (error) {
			if (!(error instanceof WouldLockOut)) throw error;
			return fail(409, { sso: { step: 1, ok: false, message: LOCKOUT } });
		}
		if (!reenabled) {
			return fail(409, {
				sso: { step: 1, ok: false, message: 'There is no previous configuration to restore.' }
			});
		}
		await audit({ event: 'settings.sso_reverted', userId: user.id, ip: event.locals.client.ip });
		return {
			sso: {
				step: 1,
				ok: true,
				message:
					'Previous configuration restored. SSO login is off until you enable it again in step 3.' +
					reenabledText(reenabled)
			}
		};
	},

	verifyLink: async (event: Event) => {
		const { user } = requireUser(event);
		const sso = await getSsoConfig();
		if (sso.ssoMode !== 'OIDC' || !sso.oidcIssuer || !sso.oidcClientId) {
			return fail(409, {
				sso: { step: 2, ok: false, message: 'Save an OIDC configuration in step 1 first.' }
			});
		}
		let doc;
		try {
			doc = await getDiscovery(sso.oidcIssuer, sso.ssoConfigVersion);
		} catch (error) {
			const message = error instanceof DiscoveryError ? error.message : 'OIDC discovery failed';
			return fail(502, { sso: { step: 2, ok: false, message } });
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

	linkManual: async (event: Event) => {
		const { user, session } = requireUser(event);
		const raw = (await readForm(event.request)).get('subject');
		const parsed = v.safeParse(subjectSchema, typeof raw === 'string' ? raw : '');
		if (!parsed.success) {
			return fail(400, {
				sso: {
					step: 2,
					manual: true,
					subject: typeof raw === 'string' ? raw.slice(0, 255) : '',
					errors: { subject: parsed.issues[0].message }
				}
			});
		}
		const sso = await getSsoConfig();
		const forward = sso.ssoMode === 'FORWARD_AUTH';
		if (!forward && !sso.oidcIssuer) {
			return fail(409, {
				sso: { step: 2, ok: false, message: 'Save an OIDC configuration in step 1 first.' }
			});
		}
		if (!forward && isMultiTenantIssuer(sso.oidcIssuer)) {
			return fail(409, {
				sso: {
					step: 2,
					manual: true,
					subject: parsed.output,
					errors: {
						subject:
							'With a multi-tenant issuer the link must record your tenant: use Verify & Link via OIDC instead.'
					}
				}
			});
		}
		const identity = {
			provider: forward ? ('forward-auth' as const) : ('oidc' as const),
			issuer: forward ? FORWARD_AUTH_ISSUER : sso.oidcIssuer!,
			subject: parsed.output
		};
		try {
			await linkIdentity(user.id, session.id, identity);
		} catch (error) {
			if (!(error instanceof LinkConflictError)) throw error;
			return fail(409, {
				sso: {
					step: 2,
					manual: true,
					subject: parsed.output,
					errors: { subject: 'Another account is already linked to that subject.' }
				}
			});
		}
		await audit({
			event: 'sso.linked',
			userId: user.id,
			method: identity.provider,
			ip: event.locals.client.ip,
			detail: { subject: identity.subject, via: 'manual' }
		});
		return {
			sso: { step: 2, ok: true, message: 'Identity linked. Your other sessions were signed out.' }
		};
	},

	applyPreset: async (event: Event) => {
		requireUser(event);
		const { form } = await parseConnection(event);
		const preset = PRESETS[new URL(event.request.url).searchParams.get('preset') ?? ''];
		if (!preset)
			return fail(400, {
				sso: { step: 1, values: echo(form), ok: false, message: 'Unknown preset.' }
			});
		// Fills the header fields only; nothing is saved until Save Configuration.
		return {
			sso: {
				step: 1,
				values: {
					...echo(form),
					ssoMode: 'FORWARD_AUTH',
					forwardAuthUserHeader: preset.user,
					forwardAuthEmailHeader: preset.email,
					forwardAuthNameHeader: preset.name
				},
				ok: true,
				message: `${preset.label} header names filled in. Save Configuration to keep them.`
			}
		};
	},

	linkFromRequest: async (event: Event) => {
		const { user, session } = requireUser(event);
		const sso = await getSsoConfig();
		// Linking a forward-auth identity in OIDC mode would replace a working OIDC link with one
		// that SSO in this mode does not accept.
		if (sso.ssoMode !== 'FORWARD_AUTH') {
			return fail(409, {
				sso: { step: 2, ok: false, message: 'Save a Forward Auth configuration in step 1 first.' }
			});
		}
		const result = forwardIdentity(event.locals.client, event.request.headers, {
			user: sso.forwardAuthUserHeader,
			email: sso.forwardAuthEmailHeader,
			name: sso.forwardAuthNameHeader
		});
		if (!result.ok) {
			const message =
				result.reason === 'untrusted_proxy'
					? 'This request did not come through a trusted proxy, so its headers cannot be used. See the forward-auth panel above.'
					: `The proxy did not send a usable ${sso.forwardAuthUserHeader} header with this request.`;
			return fail(409, { sso: { step: 2, ok: false, message } });
		}
		try {
			await linkIdentity(user.id, session.id, {
				provider: 'forward-auth',
				issuer: FORWARD_AUTH_ISSUER,
				subject: result.identity.subject
			});
		} catch (error) {
			if (!(error instanceof LinkConflictError)) throw error;
			return fail(409, {
				sso: { step: 2, ok: false, message: 'Another account is already linked to that identity.' }
			});
		}
		await audit({
			event: 'sso.linked',
			userId: user.id,
			method: 'forward-auth',
			ip: event.locals.client.ip,
			detail: { subject: result.identity.subject, via: 'request' }
		});
		return {
			sso: {
				step: 2,
				ok: true,
				message: `Linked ${result.identity.subject}. Your other sessions were signed out.`
			}
		};
	},

	unlink: async (event: Event) => {
		const { user, session } = requireUser(event);
		if (!user.ssoSubject)
			return fail(409, { sso: { step: 2, ok: false, message: 'No SSO identity is linked.' } });
		// The local form (or the Plex button) must be there once SSO is off.
		const settings = await getSettings();
		const reenable = fallbackFor(settings, {
			hasPassword: user.hasPassword,
			hasPlex: !!user.plexId
		});
		if (!reenable) {
			return fail(409, {
				sso: {
					step: 2,
					ok: false,
					message:
						'Unlinking would leave you with no way to sign in. Set a local password (or link Plex) first.'
				}
			});
		}
		await unlinkIdentity(user.id, session.id, reenable);
		await audit({
			event: 'sso.unlinked',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { reenabledLocal: reenable.local, reenabledPlex: reenable.plex }
		});
		const extra = reenabledText(reenable);
		return {
			sso: {
				step: 2,
				ok: true,
				message: `SSO identity unlinked and SSO login switched off. Your other sessions were signed out.${extra}`
			}
		};
	},

	saveSso: async (event: Event) => {
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
				forwardEnableRefusal(event.locals.client, event.request.headers, sso, subject)
		);
		if (!outcome.ok) {
			const message =
				outcome.reason === 'proof' ? outcome.message : SWITCH_REFUSALS[outcome.reason];
			return fail(409, { sso: { step: 3, ok: false, message } });
		}
		const reenable = outcome.reenable;
		await audit({
			event: 'settings.sso_enabled',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { enabled: enable, rpLogout, autoRedirect }
		});
		const noFallback = enable && !user.hasPassword && !user.plexId;
		return {
			sso: {
				step: 3,
				ok: true,
				message: enable
					? 'SSO login is on. Sign out and try it before relying on it.'
					: 'SSO login is off.' + reenabledText(reenable),
				warning: noFallback
					? 'You have no local password and no Plex link: if your identity provider fails, only the recovery steps in the README will get you back in.'
					: null
			}
		};
	}
};
