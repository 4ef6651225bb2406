// The pure parts of client-authentication negotiation (issue 24): which variants a sign-in and
// the credentials check try, when a refusal is about the client, how the provider's words are
// cleaned, and what the check's report says.
import { describe, expect, test } from 'vitest';
import {
	describeTokenFailure,
	encodingMatters,
	refusesClient,
	sanitizeProviderText,
	variantsToCheck,
	variantsToTry,
	type TokenAnswer
} from '../../src/lib/server/auth/sources/oidc-client-auth';
import { describeCredentialsCheck } from '../../src/lib/server/auth/sources/oidc-report';

const SPECIAL = { clientId: 'app', clientSecret: 'a+b/c=d~e-1234567890' };
const PLAIN = { clientId: 'app', clientSecret: 'plain-Secret_0.9' };
const BOTH = ['client_secret_basic', 'client_secret_post'];

describe('variants a sign-in tries', () => {
	test('Automatic: the standard first, raw Basic only when encoding changes something, post when listed', () => {
		expect(variantsToTry('auto', SPECIAL, BOTH)).toEqual(['basic', 'basic-raw', 'post']);
		expect(variantsToTry('auto', PLAIN, BOTH)).toEqual(['basic', 'post']);
		expect(variantsToTry('auto', SPECIAL, undefined)).toEqual(['basic', 'basic-raw']);
		expect(variantsToTry('auto', SPECIAL, ['client_secret_post'])).toEqual(['post']);
		expect(variantsToTry('auto', SPECIAL, ['client_secret_basic'])).toEqual(['basic', 'basic-raw']);
	});

	test('never down to a public client while a secret is set, never more than three', () => {
		for (const supported of [undefined, BOTH, ['none'], [...BOTH, 'none'], ['private_key_jwt']])
			for (const setting of ['auto', 'client_secret_basic', 'client_secret_post'] as const) {
				const variants = variantsToTry(setting, SPECIAL, supported);
				expect(variants).not.toContain('none');
				expect(variants.length).toBeLessThanOrEqual(3);
			}
		expect(variantsToTry('auto', { clientId: 'app', clientSecret: null }, BOTH)).toEqual(['none']);
		expect(variantsToTry('none', SPECIAL, BOTH)).toEqual(['none']);
	});

	test('a method chosen by hand keeps to itself; Basic still tries its raw encoding', () => {
		expect(variantsToTry('client_secret_basic', SPECIAL, ['client_secret_post'])).toEqual([
			'basic',
			'basic-raw'
		]);
		expect(variantsToTry('client_secret_post', SPECIAL, BOTH)).toEqual(['post']);
	});

	test('what was learnt goes first, when it is one of them', () => {
		expect(variantsToTry('auto', SPECIAL, BOTH, 'post')).toEqual(['post', 'basic', 'basic-raw']);
		expect(variantsToTry('client_secret_basic', SPECIAL, BOTH, 'post')).toEqual([
			'basic',
			'basic-raw'
		]);
		expect(variantsToTry('auto', PLAIN, BOTH, 'basic-raw')).toEqual(['basic', 'post']);
	});

	test('encoding matters for the id too', () => {
		expect(encodingMatters({ clientId: 'a b', clientSecret: 'plain' })).toBe(true);
		expect(encodingMatters(PLAIN)).toBe(false);
	});
});

describe('the credentials check', () => {
	test('tries every variant the provider lists, whatever the setting', () => {
		expect(variantsToCheck(SPECIAL, BOTH)).toEqual(['basic', 'basic-raw', 'post']);
		expect(variantsToCheck(PLAIN, ['client_secret_post'])).toEqual(['post']);
		expect(variantsToCheck(PLAIN, ['private_key_jwt'])).toEqual(['basic']);
		expect(variantsToCheck({ clientId: 'app', clientSecret: null }, BOTH)).toEqual(['none']);
	});

	const answer = (status: number, error: string | null): TokenAnswer => ({
		variant: 'basic',
		status,
		data: null,
		error,
		description: null
	});

	test('only 400/401/403 with invalid_client or unauthorized_client is about the client', () => {
		expect(refusesClient(answer(401, 'invalid_client'))).toBe(true);
		expect(refusesClient(answer(403, 'unauthorized_client'))).toBe(true);
		expect(refusesClient(answer(400, 'invalid_client'))).toBe(true);
		expect(refusesClient(answer(400, 'invalid_grant'))).toBe(false);
		expect(refusesClient(answer(500, 'invalid_client'))).toBe(false);
		expect(refusesClient(answer(401, null))).toBe(false);
	});

	test('the report picks the first working variant the setting allows, or says plainly none works', () => {
		const accepted = { outcome: 'accepted' as const, detail: 'HTTP 400: invalid_grant' };
		const refused = { outcome: 'refused' as const, detail: 'HTTP 401: invalid_client' };
		const raw = describeCredentialsCheck(
			[
				{ variant: 'basic', ...refused },
				{ variant: 'basic-raw', ...accepted },
				{ variant: 'post', ...accepted }
			],
			'auto'
		);
		expect(raw.chosen).toBe('basic-raw');
		expect(raw.message).toContain('without decoding it');

		const forced = describeCredentialsCheck(
			[
				{ variant: 'basic', ...refused },
				{ variant: 'post', ...accepted }
			],
			'client_secret_basic'
		);
		expect(forced.ok).toBe(false);
		expect(forced.message).toContain('set it to Automatic');

		const none = describeCredentialsCheck(
			[
				{ variant: 'basic', ...refused },
				{ variant: 'post', ...refused }
			],
			'auto'
		);
		expect(none.chosen).toBeNull();
		expect(none.message).toContain(
			'The provider refused this client ID and secret with every method it lists'
		);
	});
});

describe("the provider's words", () => {
	const refusal = (status: number, error: string | null, data: unknown = {}): TokenAnswer => ({
		variant: 'basic',
		status,
		data,
		error,
		description: error ? 'said the provider' : null
	});
	const words = (answers: TokenAnswer[]) =>
		describeTokenFailure(answers, 'https://idp.example/token', 'https://app.example/cb');

	test('a token-endpoint failure names the step, the status, the error and its description, and a hint', () => {
		expect(words([refusal(401, 'invalid_client')])).toBe(
			'Token exchange at https://idp.example/token failed: HTTP 401: invalid_client (“said the provider”). The provider refused this client ID and secret: check them (and the Client Authentication setting) at the provider; Check client credentials in step 1 shows what it accepts.'
		);
		expect(words([refusal(400, 'invalid_grant')])).toContain(
			'the redirect URI registered at the provider is not exactly https://app.example/cb.'
		);
		expect(words([refusal(400, 'unsupported_grant_type')])).toContain('authorization code grant');
		expect(words([refusal(502, null)])).toContain('HTTP 502. The provider had an error of its own');
		expect(words([refusal(404, null, null)])).toContain('did not answer with JSON');
	});

	test('control and direction characters go, the length is capped, non-strings are nothing', () => {
		expect(sanitizeProviderText('Wrong\u0007 credentials\n\u202eevil')).toBe(
			'Wrong credentials evil'
		);
		const long = sanitizeProviderText('x'.repeat(1000))!;
		expect(long.length).toBe(200);
		expect(long.endsWith('…')).toBe(true);
		expect(sanitizeProviderText(42)).toBeNull();
		expect(sanitizeProviderText('\u0000\u0001')).toBeNull();
	});
});
