import { describe, expect, test } from 'vitest';
import { claimString, displayNameFrom } from '../../src/lib/server/auth/sources/oidc-claims';

const full = {
	sub: 'b8f3e2c4',
	name: 'Ada Lovelace',
	preferred_username: 'ada',
	nickname: 'countess',
	email: 'ada@example.test'
};

describe('the display name after an SSO sign-in', () => {
	test('prefers the name claim over the default username claim (preferred_username)', () => {
		expect(displayNameFrom(full, 'preferred_username', full.sub)).toBe('Ada Lovelace');
	});

	test('a username claim the admin chose comes first, then name, then preferred_username, then the subject', () => {
		expect(displayNameFrom(full, 'nickname', full.sub)).toBe('countess');
		const { name: _n, ...noName } = full;
		expect(displayNameFrom(noName, 'upn', full.sub)).toBe('ada');
		expect(displayNameFrom(full, 'upn', full.sub)).toBe('Ada Lovelace');
		// email is not a name: the subject it is
		expect(displayNameFrom({ sub: 'x', email: 'x@example.test' }, 'upn', 'x')).toBe('x');
		expect(displayNameFrom({ sub: 'x' }, 'preferred_username', 'x')).toBe('x');
	});

	test('skips blank, non-string and control-character values, trims and caps at 200 characters', () => {
		const claims = {
			name: '  ',
			nickname: 42,
			preferred_username: 'evil\u001b[2J',
			email: ' a@b '
		};
		expect(displayNameFrom(claims, 'nickname', 's')).toBe('s');
		expect(displayNameFrom({ name: `  ${'n'.repeat(300)}` }, 'x', 's')).toBe('n'.repeat(200));
		expect(displayNameFrom({}, 'x', 's'.repeat(300))).toHaveLength(200);
		expect(claimString({ name: 'Line\nbreak' }, 'name')).toBeNull();
	});
});
