import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { fieldErrors } from '../../src/lib/schemas/fields';
import { ssoButtonTextSchema } from '../../src/lib/schemas/login-page';
import { setupSchema } from '../../src/lib/schemas/setup';
import { needsRehash } from '../../src/lib/server/auth/password';

const valid = {
	displayName: ' Ada ',
	localUsername: ' Admin ',
	password: 'correct horse',
	confirmPassword: 'correct horse'
};

describe('setup form rules', () => {
	test('trims and lower-cases the username, keeps the password as typed', () => {
		const out = v.parse(setupSchema, valid);
		expect(out).toMatchObject({
			displayName: 'Ada',
			localUsername: 'admin',
			password: 'correct horse'
		});
	});

	test('minimum lengths are checked on the trimmed value', () => {
		const result = v.safeParse(setupSchema, {
			...valid,
			password: '  1234567  ',
			confirmPassword: '  1234567  '
		});
		expect(result.success).toBe(false);
		expect(fieldErrors(result.issues!).password).toMatch(/at least 8 characters/);
		expect(v.safeParse(setupSchema, { ...valid, localUsername: '  ab ' }).success).toBe(false);
	});

	test('a confirmation that differs is an error on the confirmation field', () => {
		const result = v.safeParse(setupSchema, { ...valid, confirmPassword: 'correct horsE' });
		expect(result.success).toBe(false);
		expect(fieldErrors(result.issues!)).toEqual({ confirmPassword: 'The passwords do not match.' });
	});
});

describe('password rehashing', () => {
	test('only argon2id hashes at the current parameters are kept', () => {
		expect(needsRehash('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(false);
		expect(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(true);
		expect(needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(true);
		expect(needsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(true);
	});
});

describe('no text field accepts a control character', async () => {
	const { loginSchema } = await import('../../src/lib/schemas/login');
	const { credentialsSchema } = await import('../../src/lib/schemas/credentials');
	const { connectionSchema, subjectSchema } = await import('../../src/lib/schemas/sso');
	const { newPassphrase, restorePassphrase, cronField } =
		await import('../../src/lib/schemas/backup');
	const connection = {
		ssoMode: 'OIDC',
		oidcIssuer: 'https://idp.example.test',
		oidcClientId: 'librariarr',
		oidcClientSecret: 'secret value',
		oidcScopes: 'openid profile',
		oidcUsernameClaim: 'preferred_username',
		forwardAuthUserHeader: 'Remote-User',
		forwardAuthEmailHeader: 'Remote-Email',
		forwardAuthNameHeader: 'Remote-Name'
	};
	// Each form with valid values, and the text fields to spoil one at a time.
	const forms: [string, v.GenericSchema, Record<string, string>][] = [
		['setup', setupSchema, valid],
		['login', loginSchema, { username: 'admin', password: 'correct horse' }],
		[
			'credentials',
			credentialsSchema,
			{
				localUsername: 'admin',
				currentPassword: 'correct horse',
				newPassword: 'another horse',
				confirmPassword: 'another horse'
			}
		],
		['sso connection', connectionSchema, connection]
	];
	const controls = ['\u0000', '\u0007', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u009b'];

	test.each(forms)('%s form: every field, every control character', (_name, schema, values) => {
		expect(v.safeParse(schema, values).success).toBe(true);
		for (const field of Object.keys(values)) {
			for (const c of controls) {
				const bad = `ab${c}cdefghij`;
				const spoiled = { ...values, [field]: bad };
				// A password and its confirmation change together, so only the character is wrong.
				const twin: Record<string, string> = {
					password: 'confirmPassword',
					newPassword: 'confirmPassword',
					confirmPassword: 'password' in values ? 'password' : 'newPassword'
				};
				if (twin[field] && twin[field] in values) spoiled[twin[field]] = bad;
				expect(v.safeParse(schema, spoiled).success, `${field} with ${JSON.stringify(c)}`).toBe(
					false
				);
			}
		}
	});

	test('single fields: subject, passphrases, cron', () => {
		for (const schema of [subjectSchema, newPassphrase, restorePassphrase, cronField]) {
			expect(v.safeParse(schema, 'a fine value').success).toBe(true);
			for (const c of controls) expect(v.safeParse(schema, `a fine${c}value`).success).toBe(false);
		}
	});
});

describe('the SSO button text', () => {
	const parse = (ssoButtonText: string) => v.safeParse(ssoButtonTextSchema, { ssoButtonText });

	test('is trimmed, and takes 1 to 40 characters', () => {
		const ok = parse('  Sign in with Authentik ');
		expect(ok.success && ok.output.ssoButtonText).toBe('Sign in with Authentik');
		expect(parse('x'.repeat(40)).success).toBe(true);
		expect(parse('x'.repeat(41)).success).toBe(false);
		expect(parse('   ').success).toBe(false);
	});

	test('refuses control characters', () => {
		expect(parse('Sign in\nwith SSO').success).toBe(false);
		expect(parse('Sign in\u001b[31m').success).toBe(false);
	});
});
