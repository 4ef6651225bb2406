import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { fieldErrors } from '../../src/lib/schemas/fields';
import { connectionSchema, subjectSchema } from '../../src/lib/schemas/sso';
import { discoveryUrl, formEncode } from '../../src/lib/server/auth/sources/oidc';
import { chooseClientAuth } from '../../src/lib/server/auth/sources/oidc';
import { issuerMismatch } from '../../src/lib/server/auth/sources/oidc-discovery';
import {
	issuerCovers,
	issuerFitsConfigured,
	issuerForTenant,
	sameIssuer
} from '../../src/lib/server/rule/issuer';
import { identityFits } from '../../src/lib/server/rule/linked';

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

describe('multi-tenant issuers (Microsoft Entra)', () => {
	const ENTRA = 'https://login.microsoftonline.com';
	const TEMPLATE = `${ENTRA}/{tenantid}/v2.0`;
	const TID = '9188040d-6c67-4c5b-b112-36a304b66dad';

	test('the configured common, organizations or a tenant URL fits the template', () => {
		for (const configured of [
			`${ENTRA}/common/v2.0`,
			`${ENTRA}/organizations/v2.0/`,
			`${ENTRA}/${TID}/v2.0`
		])
			expect(issuerFitsConfigured(TEMPLATE, configured)).toBe(true);
		for (const configured of [
			`${ENTRA}/v2.0`,
			`${ENTRA}/a/b/v2.0`,
			`https://evil.example/common/v2.0`,
			`${ENTRA}/common/v2.0/extra`
		])
			expect(issuerFitsConfigured(TEMPLATE, configured)).toBe(false);
	});

	test("a token's expected issuer is the template with its own tid, and only a plain tid", () => {
		expect(issuerForTenant(TEMPLATE, TID)).toBe(`${ENTRA}/${TID}/v2.0`);
		for (const tid of [undefined, 42, '', 'a/b', '../x', 'a?b'])
			expect(issuerForTenant(TEMPLATE, tid)).toBeNull();
		expect(issuerForTenant('https://plain.example', undefined)).toBe('https://plain.example');
	});

	test('a link to one tenant fits the common configuration; other URLs do not', () => {
		const common = `${ENTRA}/common/v2.0`;
		expect(issuerCovers(common, `${ENTRA}/${TID}/v2.0`)).toBe(true);
		expect(issuerCovers(common, `${ENTRA}/organizations/v2.0`)).toBe(false);
		expect(issuerCovers(common, `https://evil.example/${TID}/v2.0`)).toBe(false);
		expect(issuerCovers(common, `${ENTRA}/${TID}/v1.0`)).toBe(false);
		// A single-tenant configuration does not accept another tenant.
		expect(issuerCovers(`${ENTRA}/${TID}/v2.0`, `${ENTRA}/other/v2.0`)).toBe(false);
		// Only the Entra shape (`…/<authority>/v2.0`) counts as multi-tenant.
		expect(issuerCovers('https://auth.example.com/common', 'https://auth.example.com/x')).toBe(
			false
		);
		expect(issuerCovers(`${ENTRA}/common/v1.0`, `${ENTRA}/${TID}/v1.0`)).toBe(false);
		const linked = { ssoProvider: 'oidc', ssoIssuer: `${ENTRA}/${TID}/v2.0`, ssoSubject: 's' };
		expect(identityFits(linked, 'OIDC', common)).toBe(true);
	});
});

describe('client authentication choice', () => {
	test('Basic when listed or nothing listed, else post; nothing without a secret; a setting wins', () => {
		expect(chooseClientAuth('auto', true, undefined)).toBe('client_secret_basic');
		expect(chooseClientAuth('auto', true, ['client_secret_post', 'client_secret_basic'])).toBe(
			'client_secret_basic'
		);
		expect(chooseClientAuth('auto', true, ['client_secret_post', 'private_key_jwt'])).toBe(
			'client_secret_post'
		);
		expect(chooseClientAuth('auto', false, ['client_secret_basic'])).toBe('none');
		expect(chooseClientAuth('client_secret_post', true, ['client_secret_basic'])).toBe(
			'client_secret_post'
		);
		expect(chooseClientAuth('none', true, ['client_secret_basic'])).toBe('none');
	});
});

describe('issuer mismatch words', () => {
	test('name both values, after the words DESIGN fixes', () => {
		expect(
			issuerMismatch('https://auth.example.com/realms/a', 'https://auth.example.com/realms/b')
		).toBe(
			'OIDC issuer mismatch: the provider reports "https://auth.example.com/realms/a", but the configured issuer is "https://auth.example.com/realms/b". The issuer URL must be exactly what the provider\'s discovery document says.'
		);
	});

	test("the provider's value is sanitised and cut; a missing one is said so", () => {
		const words = issuerMismatch(`https://evil.example/${'x'.repeat(500)}\n<b>`, 'https://a');
		expect(words).not.toContain('\n');
		expect(words.length).toBeLessThan(420);
		expect(issuerMismatch(42, 'https://a')).toContain('the provider reports no issuer at all');
	});
});
