// How the client proves who it is at the token endpoint, and how it adapts when the provider
// reads that proof differently from the standard (issue 24).
//
// Model: three variants are equally strong, since each sends the same id and secret to the same
// place: HTTP Basic with both parts form-encoded (RFC 6749 §2.3.1, the standard), HTTP Basic with
// both parts as they are (many providers compare without decoding; this differs from the first only
// when encoding changes a character), and client_secret_post. When the token endpoint answers
// 400/401/403 with `invalid_client` or `unauthorized_client`, the next variant is tried with the
// same code: providers check the client before the code, so the code is still good. Never more
// than three requests, never another URL than the discovered token endpoint, never without PKCE,
// never down to `none` (a public client is only what the admin configured). A method the admin
// chose is honoured: only its Basic encoding variant is added. The variant that worked is
// remembered by the caller (sso/config.ts) and tried first next time.
//
// The credentials check sends a made-up code and verifier with each variant the provider lists:
// a refusal about the code (`invalid_grant`, or anything not about the client) means the client
// id and secret were accepted; `invalid_client`/`unauthorized_client` means they were not.
import { generateCodeVerifier, generateState } from 'arctic';
import { cappedFetch, HttpError } from '../../http';
import { noteProviderDate } from './provider-clock';
import {
	CLIENT_AUTH_VARIANTS,
	type ClientAuthSetting,
	type ClientAuthVariant
} from '../../sso/config';

import { sanitizeProviderText } from '../../sso/link-failure';

export { CLIENT_AUTH_VARIANTS, sanitizeProviderText, type ClientAuthVariant };

export type ClientCredentials = { clientId: string; clientSecret: string | null };

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 wants inside the Basic header. */
export function formEncode(value: string) {
	return new URLSearchParams({ v: value }).toString().slice(2);
}

/** Whether form-encoding changes the id or the secret (only then is raw Basic a different try). */
export function encodingMatters({ clientId, clientSecret }: ClientCredentials) {
	return formEncode(clientId) !== clientId || formEncode(clientSecret ?? '') !== clientSecret;
}

const basicListed = (supported: string[] | undefined) =>
	!supported || supported.includes('client_secret_basic');
const postListed = (supported: string[] | undefined) => !!supported?.includes('client_secret_post');

/**
 * The variants a sign-in tries, in order: the standard first (Basic when the provider lists it or
 * lists nothing, else post), raw Basic when encoding matters, post when listed; the learnt
 * variant moves to the front when it is one of them. A forced method keeps to itself.
 */
export function variantsToTry(
	setting: ClientAuthSetting,
	credentials: ClientCredentials,
	supported: string[] | undefined,
	learnt: ClientAuthVariant | null = null
): ClientAuthVariant[] {
	if (!credentials.clientSecret || setting === 'none') return ['none'];
	const raw = encodingMatters(credentials);
	let order: ClientAuthVariant[];
	if (setting === 'client_secret_basic') order = raw ? ['basic', 'basic-raw'] : ['basic'];
	else if (setting === 'client_secret_post') order = ['post'];
	else if (!basicListed(supported)) order = ['post'];
	else {
		order = ['basic'];
		if (raw) order.push('basic-raw');
		if (postListed(supported)) order.push('post');
	}
	if (learnt && order.includes(learnt)) order = [learnt, ...order.filter((v) => v !== learnt)];
	return order;
}

/**
 * The variants the credentials check tries: every one the provider lists, whatever the setting,
 * so that the report can say which would work (at most three).
 */
export function variantsToCheck(
	credentials: ClientCredentials,
	supported: string[] | undefined
): ClientAuthVariant[] {
	if (!credentials.clientSecret) return ['none'];
	const variants: ClientAuthVariant[] = [];
	if (basicListed(supported)) {
		variants.push('basic');
		if (encodingMatters(credentials)) variants.push('basic-raw');
	}
	if (postListed(supported)) variants.push('post');
	return variants.length ? variants : ['basic'];
}

/** Whether a setting lets a sign-in use this variant. */
export function settingAllows(setting: ClientAuthSetting, variant: ClientAuthVariant) {
	if (setting === 'auto') return variant !== 'none';
	if (setting === 'client_secret_basic') return variant === 'basic' || variant === 'basic-raw';
	if (setting === 'client_secret_post') return variant === 'post';
	return variant === 'none';
}

/** One answer of the token endpoint. */
export type TokenAnswer = {
	variant: ClientAuthVariant;
	status: number;
	/** The parsed JSON body, or null when it was not JSON. */
	data: unknown;
	/** The provider's `error` and `error_description`, sanitised and capped. */
	error: string | null;
	description: string | null;
};

/** A refusal of the client itself, the only answer that makes another variant worth a try. */
export function refusesClient(answer: TokenAnswer) {
	return (
		[400, 401, 403].includes(answer.status) &&
		(answer.error === 'invalid_client' || answer.error === 'unauthorized_client')
	);
}

/** "HTTP 401: invalid_client (Wrong credentials)" for logs and reports. */
export function describeAnswer(answer: Pick<TokenAnswer, 'status' | 'error' | 'description'>) {
	let text = `HTTP ${answer.status}`;
	if (answer.error) text += `: ${answer.error}`;
	if (answer.description) text += ` (“${answer.description}”)`;
	return text;
}

/**
 * One token request (RFC 6749 §4.1.3 with PKCE) with the client authenticated by `variant`. Sent
 * with http.ts's deadline and size cap, no redirects. Throws an HttpError only when no answer came.
 */
export async function requestToken(
	tokenEndpoint: string,
	grant: { code: string; codeVerifier: string; redirectUri: string },
	credentials: ClientCredentials,
	variant: ClientAuthVariant
): Promise<TokenAnswer> {
	const body = new URLSearchParams({
		grant_type: 'authorization_code',
		code: grant.code,
		redirect_uri: grant.redirectUri,
		code_verifier: grant.codeVerifier
	});
	const headers: Record<string, string> = {
		'content-type': 'application/x-www-form-urlencoded',
		accept: 'application/json',
		'user-agent': 'Librariarr'
	};
	const { clientId, clientSecret } = credentials;
	if ((variant === 'basic' || variant === 'basic-raw') && clientSecret) {
		const pair =
			variant === 'basic'
				? `${formEncode(clientId)}:${formEncode(clientSecret)}`
				: `${clientId}:${clientSecret}`;
		headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
	} else {
		body.set('client_id', clientId);
		if (variant === 'post' && clientSecret) body.set('client_secret', clientSecret);
	}
	const res = await cappedFetch(tokenEndpoint, { method: 'POST', headers, body });
	noteProviderDate(res.headers.get('date'), tokenEndpoint);
	const text = await res.text();
	let data: unknown = null;
	try {
		data = JSON.parse(text);
	} catch {
		// not JSON: the status says what there is to say
	}
	const fields = data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
	return {
		variant,
		status: res.status,
		data,
		error: sanitizeProviderText(fields.error, 100),
		description: sanitizeProviderText(fields.error_description)
	};
}

/** The token endpoint refused every variant tried, or answered something that is not tokens. */
export class TokenRequestFailed extends HttpError {
	constructor(
		readonly answers: TokenAnswer[],
		message: string
	) {
		super(message, answers.at(-1)?.status ?? null);
	}
}

/**
 * Exchanges the code, trying `variants` in order while the provider refuses the client. Returns
 * the successful answer's JSON and the variant that got it.
 */
export async function negotiateToken(
	tokenEndpoint: string,
	grant: { code: string; codeVerifier: string; redirectUri: string },
	credentials: ClientCredentials,
	variants: ClientAuthVariant[]
): Promise<{ data: object; variant: ClientAuthVariant }> {
	const answers: TokenAnswer[] = [];
	for (const variant of variants.slice(0, 3)) {
		const answer = await requestToken(tokenEndpoint, grant, credentials, variant);
		answers.push(answer);
		if (answer.status === 200) {
			if (!answer.data || typeof answer.data !== 'object')
				throw new TokenRequestFailed(answers, 'token response is not a JSON object');
			return { data: answer.data, variant };
		}
		if (!refusesClient(answer)) break;
	}
	const message = describeTokenFailure(answers, tokenEndpoint, grant.redirectUri);
	throw new TokenRequestFailed(answers, message);
}

/** One hint per known cause of a refused token request. */
function tokenFailureHint(answer: TokenAnswer, tried: ClientAuthVariant[], redirectUri: string) {
	if (refusesClient(answer))
		return tried.length > 1
			? 'The provider refused this client ID and secret every way it was sent: check them at the provider; Check client credentials in step 1 shows each way.'
			: 'The provider refused this client ID and secret: check them (and the Client Authentication setting) at the provider; Check client credentials in step 1 shows what it accepts.';
	switch (answer.error) {
		case 'invalid_grant':
			return `The provider refused the authorization code: it expired or was used already (try again), or the redirect URI registered at the provider is not exactly ${redirectUri}.`;
		case 'unsupported_grant_type':
			return 'The provider does not let this client use the authorization code grant: allow it in the client’s settings at the provider.';
		case 'invalid_request':
			return 'The provider found the token request malformed: is the client set up for the authorization code flow with PKCE (S256)?';
	}
	if (answer.status >= 500)
		return 'The provider had an error of its own: is it running and healthy? Try again in a moment.';
	if (answer.data === null)
		return 'The token endpoint did not answer with JSON: is a login page or a proxy in front of it?';
	return '';
}

/**
 * What a failed token request says, for the log and the admin: the step, the HTTP status, the
 * provider's own `error` and `error_description` (sanitised, capped), the ways tried, a hint.
 */
export function describeTokenFailure(
	answers: TokenAnswer[],
	tokenEndpoint: string,
	redirectUri: string
) {
	const last = answers.at(-1)!;
	const tried = answers.map((a) => a.variant);
	const hint = tokenFailureHint(last, tried, redirectUri);
	const triedText =
		tried.length < 2
			? ''
			: refusesClient(last)
				? `; the provider refused the client with every variant tried (${tried.join(', ')})`
				: ` (sent as ${last.variant}, after the provider refused the client as ${tried.slice(0, -1).join(', ')})`;
	return `Token exchange at ${tokenEndpoint} failed: ${describeAnswer(last)}${triedText}.${hint ? ` ${hint}` : ''}`;
}

export type CheckOutcome = 'accepted' | 'refused' | 'unknown';
export type CheckedVariant = { variant: ClientAuthVariant; outcome: CheckOutcome; detail: string };

/**
 * The credentials check: one token request per variant with a code and verifier nobody issued.
 * Nothing can be exchanged; the answers say only whether the client was recognised.
 */
export async function checkClientCredentials(
	tokenEndpoint: string,
	redirectUri: string,
	credentials: ClientCredentials,
	variants: ClientAuthVariant[]
): Promise<CheckedVariant[]> {
	const grant = { code: generateState(), codeVerifier: generateCodeVerifier(), redirectUri };
	const results: CheckedVariant[] = [];
	for (const variant of variants.slice(0, 3)) {
		let answer: TokenAnswer;
		try {
			answer = await requestToken(tokenEndpoint, grant, credentials, variant);
		} catch (error) {
			results.push({ variant, outcome: 'unknown', detail: (error as Error).message });
			break; // the endpoint is unreachable: the other variants would not answer either
		}
		const outcome: CheckOutcome = refusesClient(answer)
			? 'refused'
			: answer.status === 200 || (answer.status >= 400 && answer.status < 500 && answer.error)
				? 'accepted'
				: 'unknown';
		results.push({ variant, outcome, detail: describeAnswer(answer) });
	}
	return results;
}
