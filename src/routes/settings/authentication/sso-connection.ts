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
import {
	DiscoveryError,
	fetchDiscovery,
	getDiscovery,
	redirectUri
} from '$lib/server/auth/sources/oidc';
import { describeCredentialsCheck, describeProvider } from '$lib/server/auth/sources/oidc-report';
import { clockWordsSince } from '$lib/server/auth/sources/provider-clock';
import { checkClientCredentials, variantsToCheck } from '$lib/server/auth/sources/oidc-client-auth';
import {
	CLIENT_AUTH_SETTINGS,
	type ClientAuthSetting,
	getSsoConfig,
	rememberClientAuth,
	revertConnection,
	sameIssuer,
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
	'forwardAuthLogoutUrl',
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

/**
 * Discovery for the issuer as typed, and the report on the form as filled in: a typed secret, or
 * the saved one unless it is being removed. A failure is the answer to send back as it is.
 */
async function discover(event: RequestEvent) {
	const { form, parsed } = await parseConnection(event);
	const issuer = parsed.success ? parsed.output.oidcIssuer : null;
	if (!parsed.success && parsed.issues.some((i) => v.getDotPath(i) === 'oidcIssuer')) {
		return {
			ok: false as const,
			failure: ssoFail(400, { step: 1, values: echo(form), errors: fieldErrors(parsed.issues) })
		};
	}
	const target = issuer ?? form.oidcIssuer.trim();
	if (!target)
		return {
			ok: false as const,
			failure: ssoFail(400, {
				step: 1,
				values: echo(form),
				errors: { oidcIssuer: SSO_TEXT.issuerFirst }
			})
		};
	let doc;
	const started = Date.now();
	try {
		doc = await fetchDiscovery(target);
	} catch (error) {
		const message = error instanceof DiscoveryError ? error.message : SSO_TEXT.discoveryFailed;
		return {
			ok: false as const,
			failure: ssoFail(502, {
				step: 1,
				values: echo(form),
				discovery: { ok: false, message },
				secretTyped: !!form.oidcClientSecret
			})
		};
	}
	const saved = await getSsoConfig();
	const method = parsed.success
		? parsed.output.oidcClientAuthMethod
		: (((CLIENT_AUTH_SETTINGS as readonly string[]).includes(form.oidcClientAuthMethod)
				? form.oidcClientAuthMethod
				: 'auto') as ClientAuthSetting);
	const secret = form.clearClientSecret
		? null
		: form.oidcClientSecret
			? form.oidcClientSecret
			: saved.clientSecret;
	// What sign-ins taught applies while the form names the saved issuer and client id; the
	// learnt client authentication, only while the secret and method are the saved ones too
	// (saving others forgets it).
	const savedClient =
		sameIssuer(target, saved.oidcIssuer) && form.oidcClientId.trim() === saved.oidcClientId;
	const report = describeProvider(
		doc,
		{
			hasSecret: secret !== null,
			clientAuthMethod: method,
			usernameClaim: parsed.success
				? parsed.output.oidcUsernameClaim
				: form.oidcUsernameClaim.trim() || 'preferred_username'
		},
		savedClient
			? {
					learnt:
						secret === saved.clientSecret && method === saved.oidcClientAuthMethod
							? saved.clientAuthLearnt
							: null,
					observed: saved.observed
				}
			: undefined
	);
	// The provider's Date header, read by this very fetch (provider-clock.ts).
	const clock = clockWordsSince(started);
	if (clock) report.warnings.push(`${clock[0].toUpperCase()}${clock.slice(1)}.`);
	return {
		ok: true as const,
		form,
		doc,
		saved,
		secret,
		method,
		issuer: target,
		discovery: { ok: true, message: SSO_TEXT.discoveryOk, ...report }
	};
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
		const result = await saveConnection(
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
		if (!result.ok)
			return ssoFail(409, { step: 1, values: echo(form), ok: false, message: SSO_TEXT.lockout });
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
		const tested = await discover(event);
		if (!tested.ok) return tested.failure;
		return ssoDone({
			step: 1,
			values: echo(tested.form),
			discovery: tested.discovery,
			secretTyped: !!tested.form.oidcClientSecret
		});
	},

	// Test Discovery, then a token request with a made-up code per variant the provider lists:
	// the answers say whether it knows this client id and secret. Nothing is exchanged; the only
	// thing stored is the verdict, and only when the checked settings are the saved ones.
	checkCredentials: async (event) => {
		requireUser(event);
		const tested = await discover(event);
		if (!tested.ok) return tested.failure;
		const { form, doc, saved, secret, method } = tested;
		const clientId = form.oidcClientId.trim();
		const answer = {
			step: 1 as const,
			values: echo(form),
			discovery: tested.discovery,
			secretTyped: !!form.oidcClientSecret
		};
		if (!clientId || clientId.length > 255)
			return ssoFail(400, { ...answer, errors: { oidcClientId: SSO_TEXT.clientIdFirst } });
		const credentials = { clientId, clientSecret: method === 'none' ? null : secret };
		const results = await checkClientCredentials(
			doc.token_endpoint,
			redirectUri(event.locals.client.origin),
			credentials,
			variantsToCheck(credentials, doc.token_endpoint_auth_methods_supported)
		);
		const report = describeCredentialsCheck(results, method);
		const checkedSaved =
			sameIssuer(tested.issuer, saved.oidcIssuer) &&
			clientId === saved.oidcClientId &&
			secret === saved.clientSecret &&
			method === saved.oidcClientAuthMethod;
		if (report.chosen && report.chosen !== 'none' && checkedSaved && saved.oidcIssuer) {
			await rememberClientAuth(
				{ issuer: saved.oidcIssuer, clientId, ssoConfigVersion: saved.ssoConfigVersion },
				report.chosen
			);
		}
		const { chosen: _chosen, ...credentialsAnswer } = report;
		return ssoDone({ ...answer, credentials: credentialsAnswer });
	},

	revert: async (event) => {
		const { user } = requireUser(event);
		const reverted = await revertConnection(user.id, rpIdFor(event.locals.client.origin));
		if (!reverted.ok) {
			const message = reverted.reason === 'no-previous' ? SSO_TEXT.noPrevious : SSO_TEXT.lockout;
			return ssoFail(409, { step: 1, ok: false, message });
		}
		await audit({ event: 'settings.sso_reverted', userId: user.id, ip: event.locals.client.ip });
		return ssoDone({
			step: 1,
			ok: true,
			message: SSO_TEXT.reverted + reenabledText(reverted.reenable)
		});
	},

	applyPreset: async (event) => {
		requireUser(event);
		const { form } = await parseConnection(event);
		const id = new URL(event.request.url).searchParams.get('preset') ?? '';
		const preset = Object.hasOwn(PRESETS, id) ? PRESETS[id] : null;
		if (!preset)
			return ssoFail(400, {
				step: 1,
				values: echo(form),
				ok: false,
				message: SSO_TEXT.unknownPreset
			});
		// Fills the header fields and the sign-out address; nothing is saved until Save Configuration.
		return ssoDone({
			step: 1,
			values: {
				...echo(form),
				ssoMode: 'FORWARD_AUTH',
				forwardAuthUserHeader: preset.user,
				forwardAuthEmailHeader: preset.email,
				forwardAuthNameHeader: preset.name,
				forwardAuthLogoutUrl: preset.signOut(event.locals.client.origin)
			},
			ok: true,
			message: SSO_TEXT.presetFilled(preset.label)
		});
	}
} satisfies Actions;
