import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { fieldErrors } from '../../src/lib/schemas/fields';
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
