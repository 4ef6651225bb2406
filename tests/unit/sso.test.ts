import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { fieldErrors } from '../../src/lib/schemas/fields';
import { connectionSchema, subjectSchema } from '../../src/lib/schemas/sso';
import { discoveryUrl, formEncode } from '../../src/lib/server/auth/sources/oidc';
import { identityFits, sameIssuer } from '../../src/lib/server/sso';

const valid = {
	ssoMode: 'OIDC',
	oidcIssuer: 'https://auth.example.com/application/o/librariarr/',
	oidcClientId: 'librariarr',
	oidcClientSecret: '',
	oidcScopes: 'openid  profile email openid',
	oidcUsernameClaim: 'preferred_username',
	forwardAuthUserHeader: 'Remote-User',
	forwardAuthEmailHeader: 'Remote-Email',
	forwardAuthNameHeader: 'Remote-Name'
};

describe('step 1 form rules', () => {
	test('a valid OIDC connection passes, scopes de-duplicated', () => {
		const out = v.parse(connectionSchema, valid);
		expect(out.oidcScopes).toBe('openid profile email');
	});

	test('scopes without openid are refused', () => {
		const r = v.safeParse(connectionSchema, { ...valid, oidcScopes: 'profile email' });
		expect(r.success).toBe(false);
		expect(fieldErrors(r.issues!).oidcScopes).toBe('The scopes must include openid.');
	});

	test.each([
		'ftp://auth.example.com',
		'not a url',
		'https://auth.example.com/?x=1',
		'https://user@auth.example.com'
	])('issuer %j is refused', (oidcIssuer) =>
		expect(v.safeParse(connectionSchema, { ...valid, oidcIssuer }).success).toBe(false)
	);

	test('OIDC needs an issuer and a client ID; forward auth does not', () => {
		const r = v.safeParse(connectionSchema, { ...valid, oidcIssuer: ' ', oidcClientId: '' });
		expect(fieldErrors(r.issues!)).toMatchObject({
			oidcIssuer: 'OIDC needs the issuer URL.',
			oidcClientId: 'OIDC needs the client ID.'
		});
		expect(
			v.safeParse(connectionSchema, {
				...valid,
				ssoMode: 'FORWARD_AUTH',
				oidcIssuer: '',
				oidcClientId: ''
			}).success
		).toBe(true);
	});

	test.each(['Remote User', 'Remote:User', 'Remote\nUser', ''])(
		'header name %j is refused',
		(name) => {
			expect(v.safeParse(connectionSchema, { ...valid, forwardAuthUserHeader: name }).success).toBe(
				false
			);
		}
	);

	test('subjects: trimmed, bounded, no control characters', () => {
		expect(v.parse(subjectSchema, '  grace ')).toBe('grace');
		expect(v.safeParse(subjectSchema, '').success).toBe(false);
		expect(v.safeParse(subjectSchema, 'a\u0000b').success).toBe(false);
		expect(v.safeParse(subjectSchema, 'x'.repeat(256)).success).toBe(false);
	});
});

describe('OIDC details', () => {
	test('discovery lives under the issuer, with or without its trailing slash', () => {
		expect(discoveryUrl('https://kc.example.com/realms/home')).toBe(
			'https://kc.example.com/realms/home/.well-known/openid-configuration'
		);
		expect(discoveryUrl('https://ak.example.com/application/o/lib/')).toBe(
			'https://ak.example.com/application/o/lib/.well-known/openid-configuration'
		);
	});

	test('client credentials are form-encoded for HTTP Basic (RFC 6749 §2.3.1)', () => {
		expect(formEncode('a b:c%d+e&f/g')).toBe('a+b%3Ac%25d%2Be%26f%2Fg');
		expect(formEncode('plain-Secret_0.9~')).toBe('plain-Secret_0.9%7E'); // the form encoding leaves only * - . _ as they are
	});

	test('issuers compare without a trailing slash; identities fit their own mode only', () => {
		expect(sameIssuer('https://a.example/x/', 'https://a.example/x')).toBe(true);
		expect(sameIssuer('https://a.example/x', 'https://a.example/y')).toBe(false);
		const oidc = { ssoProvider: 'oidc', ssoIssuer: 'https://a.example/', ssoSubject: 'sub' };
		expect(identityFits(oidc, 'OIDC', 'https://a.example')).toBe(true);
		expect(identityFits(oidc, 'OIDC', 'https://b.example')).toBe(false);
		expect(identityFits(oidc, 'FORWARD_AUTH', null)).toBe(false);
		expect(
			identityFits(
				{ ssoProvider: 'forward-auth', ssoIssuer: 'forward-auth', ssoSubject: 'x' },
				'FORWARD_AUTH',
				null
			)
		).toBe(true);
		expect(identityFits({ ...oidc, ssoSubject: null }, 'OIDC', 'https://a.example')).toBe(false);
	});
});
