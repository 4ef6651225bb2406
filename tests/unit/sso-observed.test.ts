// What a sign-in adds to what was seen of the provider (sso/observed.ts): the first verified
// algorithm stays, a refused one always shows, the claim's source is the latest; nothing new, no
// write. And an observation made for another issuer or client id reads as nothing.
import { describe, expect, test } from 'vitest';
import {
	algName,
	nextObservation,
	NOTHING_OBSERVED,
	observedFrom,
	type Observed
} from '../../src/lib/server/sso/observed';
import { algorithmAccepted } from '../../src/lib/server/sso/algorithms';

const rs: Observed = { idTokenAlg: { alg: 'RS256', accepted: true }, usernameClaim: null };

describe('nextObservation', () => {
	test('the first verified algorithm is kept; a later verified one changes nothing', () => {
		expect(
			nextObservation(NOTHING_OBSERVED, { idTokenAlg: { alg: 'RS256', accepted: true } })
		).toEqual(rs);
		expect(nextObservation(rs, { idTokenAlg: { alg: 'ES256', accepted: true } })).toBeNull();
		expect(nextObservation(rs, { idTokenAlg: { alg: 'RS256', accepted: true } })).toBeNull();
	});

	test('a refused algorithm replaces a verified one, and a verified one replaces it', () => {
		const refused = nextObservation(rs, { idTokenAlg: { alg: 'HS256', accepted: false } });
		expect(refused?.idTokenAlg).toEqual({ alg: 'HS256', accepted: false });
		expect(nextObservation(refused!, { idTokenAlg: { alg: 'HS256', accepted: false } })).toBeNull();
		expect(
			nextObservation(refused!, { idTokenAlg: { alg: 'PS256', accepted: true } })?.idTokenAlg
		).toEqual({ alg: 'PS256', accepted: true });
	});

	test("the claim's source is the latest; a sign-in that could not tell keeps the last", () => {
		const missing = nextObservation(rs, {
			usernameClaim: { claim: 'preferred_username', from: 'missing' }
		});
		expect(missing).toEqual({
			...rs,
			usernameClaim: { claim: 'preferred_username', from: 'missing' }
		});
		expect(nextObservation(missing!, { idTokenAlg: { alg: 'RS256', accepted: true } })).toBeNull();
		expect(
			nextObservation(missing!, {
				usernameClaim: { claim: 'preferred_username', from: 'userinfo' }
			})?.usernameClaim
		).toEqual({ claim: 'preferred_username', from: 'userinfo' });
	});
});

describe('observedFrom', () => {
	const row = {
		oidcSeenIssuer: 'https://id.example',
		oidcSeenClientId: 'app',
		oidcSeenIdTokenAlg: 'HS256',
		oidcSeenUsernameClaim: 'email',
		oidcSeenUsernameClaimFrom: 'id_token'
	};

	test('applies to the issuer and client id it was made for only', () => {
		expect(observedFrom('https://id.example', 'app', row, algorithmAccepted)).toEqual({
			idTokenAlg: { alg: 'HS256', accepted: false },
			usernameClaim: { claim: 'email', from: 'id_token' }
		});
		expect(observedFrom('https://id.example', 'other', row, algorithmAccepted)).toEqual(
			NOTHING_OBSERVED
		);
		expect(observedFrom('https://other.example', 'app', row, algorithmAccepted)).toEqual(
			NOTHING_OBSERVED
		);
		expect(
			observedFrom(
				null,
				null,
				{ ...row, oidcSeenIssuer: null, oidcSeenClientId: null },
				algorithmAccepted
			)
		).toEqual(NOTHING_OBSERVED);
	});

	test('an unknown claim source reads as not seen', () => {
		expect(
			observedFrom(
				'https://id.example',
				'app',
				{ ...row, oidcSeenUsernameClaimFrom: 'x' },
				algorithmAccepted
			).usernameClaim
		).toBeNull();
	});
});

test('algName takes what a JWT header may name, nothing else', () => {
	expect(algName('RS256')).toBe('RS256');
	expect(algName('none')).toBe('none');
	expect(algName('EdDSA')).toBe('EdDSA');
	for (const bad of ['', 'x'.repeat(21), 'RS256\n', '<b>', 42, null, undefined])
		expect(algName(bad)).toBeNull();
});
