// Step 1 of Single Sign-On: save the connection, test discovery, revert to the previous
// settings, fill in a forward-auth preset. Guard clauses ending in ssoFail or ssoDone; the
// client secret is never sent back.
import { rpIdFor } from '$lib/server/auth/passkeys';
import type { RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import { readForm } from '$lib/server/form';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { PRESETS } from '$lib/server/auth/sources/forward';
import { DiscoveryError, fetchDiscovery, getDiscovery } from '$lib/server/auth/sources/oidc';
import { describeProvider } from '$lib/server/auth/sources/oidc-report';
import {
	CLIENT_AUTH_SETTINGS,
	type ClientAuthSetting,
	getSsoConfig,
	revertConnection,
	WouldLockOut,
	saveConnection
} from '$lib/server/sso';
import { fieldErrors, formFields } from '$lib/schemas/fields';
import { connectionSchema } from '$lib/schemas/sso';
import { ssoDone, ssoFail, type ConnectionValues } from './sso-answer';
import { reenabledText, SSO_TEXT } from './sso-messages';
import type { Actions } from './$types';

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
	'forwardAuthNameHeader',
	'secretTypedInTest'
] as const;

type ConnectionForm = Record<(typeof CONNECTION_FIELDS)[number], string>;

function echo(form: ConnectionForm): ConnectionValues {
	const { oidcClientSecret: _never, secretTypedInTest: _marker, ...values } = form;
	return values;
}

/**
 * After a save that leaves a public client (no secret), whether the provider's discovery document
 * says it accepts none: a warning, not a refusal, since a provider may accept more than it lists.
 */
async function publicClientWarning(): Promise<string | null> {
	const sso = await getSsoConfig();
	if (sso.ssoMode !== 'OIDC' || !sso.oidcIssuer || sso.clientSecret !== null) return null;
	try {
		const methods = (await getDiscovery(sso.oidcIssuer, sso.ssoConfigVersion))
			.token_endpoint_auth_methods_supported;
		return methods?.length && !methods.includes('none') ? SSO_TEXT.publicClientRefused : null;
	} catch {
		return null; // Test Discovery and Verify & Link say what is wrong with the provider
	}
}

async function parseConnection(event: RequestEvent) {
	const form = formFields(await readForm(event.request), CONNECTION_FIELDS);
	if (!form.clearClientSecret)
		(form as Record<string, string | undefined>).clearClientSecret = undefined;
	return { form, parsed: v.safeParse(connectionSchema, form) };
}

export const connectionActions = {
	saveConnection: async (event) => {
		const { user } = requireUser(event);
		const { form, parsed } = await parseConnection(event);
		if (!parsed.success) {
			return ssoFail(400, { step: 1, values: echo(form), errors: fieldErrors(parsed.issues) });
		}
		const input = parsed.output;
		// Without JavaScript the page that Test Discovery answered holds no secret (it is never
		// sent back); saving it as it is would quietly store a public client.
		if (form.secretTypedInTest && !input.oidcClientSecret && !input.clearClientSecret) {
			return ssoFail(400, {
				step: 1,
				values: echo(form),
				errors: { oidcClientSecret: SSO_TEXT.secretAgain }
			});
		}
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
				user.id,
				rpIdFor(event.locals.client.origin)
			);
		} catch (error) {
			if (!(error instanceof WouldLockOut)) throw error;
			return ssoFail(409, { step: 1, values: echo(form), ok: false, message: SSO_TEXT.lockout });
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
			? SSO_TEXT.nothingChanged
			: result.ssoSwitchedOff
				? SSO_TEXT.savedSsoOff + reenabledText(result.reenabled)
				: SSO_TEXT.saved;
		const warning = input.ssoMode === 'OIDC' ? await publicClientWarning() : null;
		return ssoDone({ step: 1, ok: true, message, warning });
	},

	testDiscovery: async (event) => {
		requireUser(event);
		const { form, parsed } = await parseConnection(event);
		const issuer = parsed.success ? parsed.output.oidcIssuer : null;
		if (!parsed.success && parsed.issues.some((i) => v.getDotPath(i) === 'oidcIssuer')) {
			return ssoFail(400, { step: 1, values: echo(form), errors: fieldErrors(parsed.issues) });
		}
		const target = issuer ?? form.oidcIssuer.trim();
		if (!target)
			return ssoFail(400, {
				step: 1,
				values: echo(form),
				errors: { oidcIssuer: SSO_TEXT.issuerFirst }
			});
		let doc;
		try {
			doc = await fetchDiscovery(target);
		} catch (error) {
			const message = error instanceof DiscoveryError ? error.message : SSO_TEXT.discoveryFailed;
			return ssoFail(502, {
				step: 1,
				values: echo(form),
				discovery: { ok: false, message },
				secretTyped: !!form.oidcClientSecret
			});
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
		return ssoDone({
			step: 1,
			values: echo(form),
			discovery: { ok: true, message: SSO_TEXT.discoveryOk, ...report },
			secretTyped: !!form.oidcClientSecret
		});
	},

	revert: async (event) => {
		const { user } = requireUser(event);
		let reenabled;
		try {
			reenabled = await revertConnection(user.id, rpIdFor(event.locals.client.origin));
		} catch (error) {
			if (!(error instanceof WouldLockOut)) throw error;
			return ssoFail(409, { step: 1, ok: false, message: SSO_TEXT.lockout });
		}
		if (!reenabled) return ssoFail(409, { step: 1, ok: false, message: SSO_TEXT.noPrevious });
		await audit({ event: 'settings.sso_reverted', userId: user.id, ip: event.locals.client.ip });
		return ssoDone({ step: 1, ok: true, message: SSO_TEXT.reverted + reenabledText(reenabled) });
	},

	applyPreset: async (event) => {
		requireUser(event);
		const { form } = await parseConnection(event);
		const preset = PRESETS[new URL(event.request.url).searchParams.get('preset') ?? ''];
		if (!preset)
			return ssoFail(400, {
				step: 1,
				values: echo(form),
				ok: false,
				message: SSO_TEXT.unknownPreset
			});
		// Fills the header fields only; nothing is saved until Save Configuration.
		return ssoDone({
			step: 1,
			values: {
				...echo(form),
				ssoMode: 'FORWARD_AUTH',
				forwardAuthUserHeader: preset.user,
				forwardAuthEmailHeader: preset.email,
				forwardAuthNameHeader: preset.name
			},
			ok: true,
			message: SSO_TEXT.presetFilled(preset.label)
		});
	}
} satisfies Actions;
