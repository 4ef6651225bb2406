import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import { describe, expect, test } from 'vitest';
import { locksOut, waysInFor } from '../../src/lib/server/rule/ways-in';
import {
	hashRecoveryCode,
	newRecoveryCode,
	newRecoveryCodesFile,
	normaliseRecoveryCode
} from '../../src/lib/server/auth/recovery-codes';
import {
	enrollmentView,
	matchingStep,
	newTotpSecret,
	normaliseTotpCode,
	stepAt
} from '../../src/lib/server/auth/totp';

describe('TOTP codes', () => {
	const secret = newTotpSecret();
	const key = decodeBase32IgnorePadding(secret);
	const now = Date.UTC(2026, 11, 2, 1, 0, 10);
	const step = stepAt(now);

	test('a secret is 160 random bits in base32', () => {
		expect(secret).toMatch(/^[A-Z2-7]{32}$/);
		expect(newTotpSecret()).not.toBe(secret);
	});

	test('the current step and one either side are accepted, and say which step they were', () => {
		for (const offset of [-1n, 0n, 1n]) {
			expect(matchingStep(key, generateHOTP(key, step + offset, 6), now)).toBe(step + offset);
		}
	});

	test('two steps away is refused, and so is a code of another secret', () => {
		expect(matchingStep(key, generateHOTP(key, step - 2n, 6), now)).toBeNull();
		expect(matchingStep(key, generateHOTP(key, step + 2n, 6), now)).toBeNull();
		const other = decodeBase32IgnorePadding(newTotpSecret());
		expect(matchingStep(key, generateHOTP(other, step, 6), now)).toBeNull();
	});

	test('codes are typed as six digits, spaces and dashes ignored', () => {
		expect(normaliseTotpCode(' 123 456 ')).toBe('123456');
		expect(normaliseTotpCode('123-456')).toBe('123456');
		for (const bad of ['12345', '1234567', 'abcdef', '', '１２３４５６']) {
			expect(normaliseTotpCode(bad)).toBeNull();
		}
	});

	test('the enrollment shows an otpauth URI as an SVG QR code and the secret in groups', () => {
		const view = enrollmentView(secret, 'admin');
		expect(view.uri).toMatch(/^otpauth:\/\/totp\/Librariarr:admin\?/);
		expect(view.uri).toContain(`secret=${secret}`);
		expect(view.qrSvg).toMatch(/^<svg [^>]*viewBox/);
		expect(view.secretText.replace(/ /g, '')).toBe(secret);
	});
});

describe('recovery codes', () => {
	test('a code has 80 bits: 16 base32 characters in four groups, and they differ', () => {
		const codes = new Set(Array.from({ length: 100 }, newRecoveryCode));
		expect(codes.size).toBe(100);
		for (const code of codes) expect(code).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
	});

	test('typed codes are normalised: case, spaces, dashes, and digits for look-alike letters', () => {
		expect(normaliseRecoveryCode('abcd efgh-ijkl mnop')).toBe('ABCDEFGHIJKLMNOP');
		expect(normaliseRecoveryCode('0BCD-1FGH-8JKL-MNOP')).toBe('OBCDIFGHBJKLMNOP');
		for (const bad of [
			'',
			'ABCD',
			'ABCDEFGHIJKLMNOPQ',
			'ABCD-EFGH-IJKL-MNO9',
			'ÄBCDEFGHIJKLMNOP'
		]) {
			expect(normaliseRecoveryCode(bad)).toBeNull();
		}
	});

	test('the stored hash depends on the key, and is not the code', () => {
		const a = Buffer.alloc(32, 1);
		const b = Buffer.alloc(32, 2);
		const code = normaliseRecoveryCode(newRecoveryCode())!;
		expect(hashRecoveryCode(code, a)).toMatch(/^[0-9a-f]{64}$/);
		expect(hashRecoveryCode(code, a)).not.toBe(hashRecoveryCode(code, b));
		expect(hashRecoveryCode(code, a)).not.toContain(code);
	});

	test('the text file holds one to ten well-formed codes and nothing else', () => {
		const codes = Array.from({ length: 10 }, newRecoveryCode);
		const where = { origin: 'https://library.example.com', username: 'admin' };
		const file = newRecoveryCodesFile(codes, where);
		expect(file).toContain(codes[9]);
		// The server's full address, so that a file found later says where it works.
		expect(file).toContain('at https://library.example.com/login/recovery (with your username)');
		expect(file).toContain('for admin');
		expect(newRecoveryCodesFile([], where)).toBeNull();
		expect(newRecoveryCodesFile([...codes, codes[0]], where)).toBeNull();
		expect(newRecoveryCodesFile(['<script>'], where)).toBeNull();
	});
});

describe('the one rule and recovery codes', () => {
	const settings = {
		localAuthEnabled: false,
		plexLoginEnabled: false,
		ssoEnabled: false,
		ssoMode: 'OIDC' as const,
		ssoConfigured: false
	};
	const env = { override: false, trustedProxies: false };

	test('an account with only recovery codes (and TOTP) has no way in: codes run out', () => {
		const account = {
			hasPassword: false,
			hasPlex: false,
			ssoLinked: false,
			recoveryCodes: 10,
			totp: true
		};
		expect(waysInFor(settings, account, env)).toEqual([]);
		expect(locksOut(settings, account, env)).toBe(true);
	});
});
