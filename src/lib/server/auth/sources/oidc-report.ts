// What Test Discovery tells the admin: the facts of the provider's discovery document that
// matter to this app, and warnings about what will not work with the form as it is filled in.
import type { ClientAuthSetting } from '../../sso/config';
import { chooseClientAuth, ALLOWED_ALGORITHMS } from './oidc';
import { type Discovery } from './oidc-discovery';
import { isIssuerTemplate } from '../../rule/issuer';
import { NOTHING_OBSERVED, type Observed } from '../../sso/observed';
import {
	settingAllows,
	type CheckedVariant,
	type CheckOutcome,
	type ClientAuthVariant
} from './oidc-client-auth';

export type DiscoveryReport = {
	facts: { label: string; value: string }[];
	warnings: string[];
};

export type FormAsFilled = {
	/** A secret will be sent: typed in, or saved and not being removed. */
	hasSecret: boolean;
	clientAuthMethod: ClientAuthSetting;
	usernameClaim: string;
};

/**
 * What earlier sign-ins taught about this provider, when the form names the saved issuer and
 * client id (the caller decides; otherwise nothing is known).
 */
export type Known = {
	/** The client-authentication variant negotiation learnt (sso/config.ts), when it still applies. */
	learnt: ClientAuthVariant | null;
	/** What the provider was seen to send (sso/observed.ts). */
	observed: Observed;
};

const NOTHING_KNOWN: Known = { learnt: null, observed: NOTHING_OBSERVED };

const HMAC_SETTING =
	"Set the client's ID token signing algorithm at the provider (often id_token_signed_response_alg) to RS256, PS256, ES256 or EdDSA.";

const list = (values: string[] | undefined, fallback: string) =>
	values?.length ? values.join(', ') : fallback;

export function describeProvider(
	doc: Discovery,
	form: FormAsFilled,
	known: Known = NOTHING_KNOWN
): DiscoveryReport {
	const warnings: string[] = [];
	const seenAlg = known.observed.idTokenAlg;
	const seenClaim =
		known.observed.usernameClaim?.claim === form.usernameClaim
			? known.observed.usernameClaim.from
			: null;
	const learnt = known.learnt && known.learnt !== 'none' ? known.learnt : null;
	const listedAlgs = doc.id_token_signing_alg_values_supported;
	const usableAlgs = listedAlgs?.filter((a) => ALLOWED_ALGORITHMS.includes(a)) ?? [];
	const methods = doc.token_endpoint_auth_methods_supported;
	const chosen = chooseClientAuth(form.clientAuthMethod, form.hasSecret, methods);
	const pkce = doc.code_challenge_methods_supported?.includes('S256') ?? false;

	const facts = [
		{
			label: 'ID token signing algorithms',
			value: list(listedAlgs, 'not listed (RS256 assumed)')
		},
		{
			label: 'Client authentication methods',
			value: list(methods, 'not listed (client_secret_basic assumed)')
		},
		{
			label: 'ID token signing algorithm in use',
			value: !seenAlg
				? 'not seen yet: the first sign-in or Verify & Link shows it'
				: seenAlg.accepted
					? `${seenAlg.alg} (the first ID token that verified)`
					: `${seenAlg.alg} (the last ID token, refused for it)`
		},
		{
			label: 'Client authentication used',
			value: learnt ? `${VARIANT_LABELS[learnt]}, learnt from the provider` : chosen
		},
		{ label: 'PKCE S256', value: pkce ? 'supported' : 'not listed' },
		{
			label: 'Issuer in the authorization response (RFC 9207)',
			value: doc.authorization_response_iss_parameter_supported ? 'yes' : 'no'
		},
		{ label: 'End-session endpoint', value: doc.end_session_endpoint ?? 'none' },
		{
			label: 'Back-channel logout',
			value: doc.backchannel_logout_supported
				? doc.backchannel_logout_session_supported
					? 'supported (with session IDs)'
					: 'supported'
				: 'not supported'
		},
		{ label: 'Userinfo endpoint', value: doc.userinfo_endpoint ?? 'none' },
		{
			label: `Username claim ${form.usernameClaim}`,
			value:
				seenClaim === 'id_token'
					? 'sent in the ID token (seen at the last sign-in)'
					: seenClaim === 'userinfo'
						? 'sent by userinfo (seen at the last sign-in)'
						: seenClaim === 'missing'
							? 'not sent at the last sign-in'
							: doc.claims_supported?.includes(form.usernameClaim)
								? 'listed by the provider; the first sign-in or Verify & Link checks it'
								: 'not seen yet: the first sign-in or Verify & Link checks the ID token and userinfo'
		}
	];
	if (learnt) facts.push({ label: 'Learnt from the provider', value: LEARNT_TEXT[learnt] });
	if (isIssuerTemplate(doc.issuer)) {
		facts.push({
			label: 'Multi-tenant issuer',
			value: `${doc.issuer}: each token names its tenant, and linking records yours`
		});
	}

	if (!pkce) {
		warnings.push(
			'The provider does not list PKCE S256. Librariarr always sends a code challenge; a provider that ignores it still works, but the exchange is then protected by the client secret alone.'
		);
	}
	// Providers list every algorithm they can sign with, whatever this client is set to, so a
	// listed HS256 or none says nothing about the tokens this client will get. What a token was
	// signed with says it: one that verified settles it; one refused for its algorithm (an HMAC
	// default) names the setting to change. Before any token, warn only when the list leaves
	// nothing Librariarr accepts.
	if (seenAlg && !seenAlg.accepted) {
		warnings.push(
			`The provider's last ID token was signed with ${seenAlg.alg}, which Librariarr refuses (HMAC and none are never accepted). ${HMAC_SETTING}`
		);
	} else if (!seenAlg && listedAlgs?.length && !usableAlgs.length) {
		warnings.push(
			`The provider signs ID tokens only with ${listedAlgs.join(', ')}, which Librariarr does not accept. ${HMAC_SETTING}`
		);
	}
	if (methods?.length) {
		if (chosen === 'none' && !methods.includes('none')) {
			warnings.push(
				form.hasSecret
					? 'Client authentication is set to none, but the provider lists no public-client method (none): the code exchange will be refused.'
					: 'No client secret is set, and the provider lists no public-client method (none): the code exchange will be refused. Enter the client secret, or register the client as public.'
			);
		} else if (chosen !== 'none' && !methods.includes(chosen)) {
			warnings.push(
				`The provider does not list ${chosen} among its client authentication methods (${methods.join(', ')}): the code exchange will likely be refused.`
			);
		}
	}
	if (form.clientAuthMethod === 'none' && form.hasSecret) {
		warnings.push('Client authentication is set to none: the saved client secret is not sent.');
	}
	if (form.clientAuthMethod !== 'none' && form.clientAuthMethod !== 'auto' && !form.hasSecret) {
		warnings.push(
			`Client authentication is set to ${form.clientAuthMethod}, but no client secret is set: only the client ID is sent.`
		);
	}
	// claims_supported is often partial, and a claim it leaves out may still come in the ID token
	// or from userinfo: only a sign-in knows. Warn when one saw it missing, never on the list.
	if (seenClaim === 'missing') {
		warnings.push(
			`At the last sign-in the provider sent no ${form.usernameClaim}, neither in the ID token nor from userinfo, so sessions show the subject instead of a name. Add the claim to this client at the provider (a scope or a mapper), or choose another Username Claim such as email or name.`
		);
	}
	return { facts, warnings };
}

/** How each client-authentication variant is named to the admin. */
export const VARIANT_LABELS: Record<ClientAuthVariant, string> = {
	basic: 'HTTP Basic, form-encoded as the standard says (client_secret_basic)',
	'basic-raw': 'HTTP Basic, id and secret sent as they are (client_secret_basic, not form-encoded)',
	post: 'Form body (client_secret_post)',
	none: 'Client ID only (public client)'
};

/** Step 1's line about what negotiation learnt (shown under Client Authentication). */
export const LEARNT_TEXT: Record<Exclude<ClientAuthVariant, 'none'>, string> = {
	basic:
		'Your provider accepts the client secret in HTTP Basic, form-encoded as the standard says.',
	'basic-raw':
		'Your provider compares the client secret without decoding it, so Librariarr sends it in HTTP Basic as it is, without form-encoding.',
	post: 'Your provider refused the client secret in HTTP Basic and accepted it in the form body, so Librariarr sends it there (client_secret_post).'
};

export type CredentialsReport = {
	ok: boolean;
	message: string;
	results: { label: string; outcome: CheckOutcome; detail: string }[];
	/** The variant a sign-in would use first, or null when none works. */
	chosen: ClientAuthVariant | null;
};

/**
 * The words of "Check client credentials": which variants the provider accepted, the first of them
 * that the Client Authentication setting allows, and plainly when none works.
 */
export function describeCredentialsCheck(
	results: CheckedVariant[],
	setting: ClientAuthSetting
): CredentialsReport {
	const lines = results.map((r) => ({
		label: VARIANT_LABELS[r.variant],
		outcome: r.outcome,
		detail: r.detail
	}));
	const accepted = results.filter((r) => r.outcome === 'accepted').map((r) => r.variant);
	const chosen = accepted.find((v) => settingAllows(setting, v)) ?? null;
	const publicClient = results.length === 1 && results[0].variant === 'none';
	let message: string;
	if (chosen) {
		message = publicClient
			? 'The provider accepted this client ID as a public client (no secret).'
			: `The provider accepted this client ID and secret. Librariarr will send them as: ${VARIANT_LABELS[chosen]}.`;
		if (chosen === 'basic-raw' || chosen === 'post') message += ` ${LEARNT_TEXT[chosen]}`;
	} else if (accepted.length) {
		message = `The provider accepted this client ID and secret only as ${accepted.map((v) => VARIANT_LABELS[v]).join('; ')}, which the Client Authentication setting does not allow: set it to Automatic.`;
	} else if (results.some((r) => r.outcome === 'unknown')) {
		const unknown = results.find((r) => r.outcome === 'unknown')!;
		message = `The client credentials could not be checked: the token endpoint answered ${unknown.detail}. Is the provider up and healthy? Try again in a moment.`;
	} else if (publicClient) {
		message =
			'The provider refused this client ID without a secret: enter the client secret, or register the client as public at the provider.';
	} else {
		message =
			'The provider refused this client ID and secret with every method it lists: check the secret (and the client ID) at the provider, and copy them again.';
	}
	return { ok: chosen !== null, message, results: lines, chosen };
}
