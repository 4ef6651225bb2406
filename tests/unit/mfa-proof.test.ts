// "Require two-factor for SSO sign-ins" (sso/mfa-proof.ts): proof by amr or acr within the
// allowed age of auth_time, and no proof from anything hostile or missing: amr that is not an
// array, huge arrays, non-string items, auth_time missing, not a number, in the future, stale.
import { describe, expect, test } from 'vitest';
import {
	AMR_ITEMS,
	CLOCK_TOLERANCE_SECONDS,
	DEFAULT_AMR,
	DEFAULT_MAX_AGE_MINUTES,
	MFA_OFF,
	mfaMethodShown,
	mfaProof,
	mfaValueProblem,
	noProofWords,
	type MfaVerdict
} from '../../src/lib/server/sso/mfa-proof';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const nowSeconds = NOW / 1000;
const setting = { amr: [...DEFAULT_AMR], acr: [] as string[], maxAgeMinutes: 720 };
const recent = nowSeconds - 60;
const refused = (v: MfaVerdict) => {
	if (v.proved) throw new Error('expected no proof');
	return v;
};

describe('defaults', () => {
	test('the default amr list is the RFC 8176 second factors, twelve hours, off', () => {
		expect(DEFAULT_AMR).toEqual(['mfa', 'otp', 'hwk', 'swk', 'fpt', 'sms']);
		expect(DEFAULT_MAX_AGE_MINUTES).toBe(720);
		expect(MFA_OFF.required).toBe(false);
	});
});

describe('mfaProof: proof', () => {
	test('amr holding an accepted value, recent auth_time', () => {
		expect(mfaProof(setting, { amr: ['pwd', 'otp'], auth_time: recent }, NOW)).toEqual({
			proved: true,
			by: { amr: 'otp' }
		});
	});
	test.each(DEFAULT_AMR)('each default value counts: %s', (m) => {
		expect(mfaProof(setting, { amr: [m], auth_time: recent }, NOW).proved).toBe(true);
	});
	test('acr in the accepted list counts, even without amr', () => {
		const withAcr = { ...setting, acr: ['gold'] };
		expect(mfaProof(withAcr, { acr: 'gold', auth_time: recent }, NOW)).toEqual({
			proved: true,
			by: { acr: 'gold' }
		});
	});
	test('exactly at the allowed age still counts; a second later does not', () => {
		const edge = nowSeconds - 720 * 60;
		expect(mfaProof(setting, { amr: ['mfa'], auth_time: edge }, NOW).proved).toBe(true);
		expect(refused(mfaProof(setting, { amr: ['mfa'], auth_time: edge - 1 }, NOW)).reason).toBe(
			'stale'
		);
	});
	test('a clock a little ahead (within the tolerance) is forgiven', () => {
		const ahead = nowSeconds + CLOCK_TOLERANCE_SECONDS;
		expect(mfaProof(setting, { amr: ['mfa'], auth_time: ahead }, NOW).proved).toBe(true);
	});
});

describe('mfaProof: no proof', () => {
	test('no amr and no acr', () => {
		const v = refused(mfaProof(setting, { auth_time: recent }, NOW));
		expect(v).toMatchObject({ reason: 'no-method', amr: [], acr: null });
		expect(noProofWords(v)).toMatch(/no amr or acr/);
	});
	test('amr with only a password', () => {
		const v = refused(mfaProof(setting, { amr: ['pwd'], auth_time: recent }, NOW));
		expect(v.reason).toBe('no-method');
		expect(noProofWords(v)).toContain('[pwd]');
	});
	test('acr not in the list (and the list empty by default)', () => {
		expect(refused(mfaProof(setting, { acr: 'gold', auth_time: recent }, NOW)).reason).toBe(
			'no-method'
		);
		const withAcr = { ...setting, acr: ['gold'] };
		expect(refused(mfaProof(withAcr, { acr: 'silver', auth_time: recent }, NOW)).reason).toBe(
			'no-method'
		);
	});
	test('values compare exactly: MFA is not mfa', () => {
		expect(mfaProof(setting, { amr: ['MFA'], auth_time: recent }, NOW).proved).toBe(false);
	});
	test('stale auth_time', () => {
		const v = refused(mfaProof(setting, { amr: ['mfa'], auth_time: nowSeconds - 13 * 3600 }, NOW));
		expect(v).toMatchObject({ reason: 'stale', ageMinutes: 780 });
		expect(noProofWords(v)).toContain('780 minutes ago');
	});
	test('a shorter allowed age', () => {
		const short = { ...setting, maxAgeMinutes: 5 };
		expect(mfaProof(short, { amr: ['mfa'], auth_time: nowSeconds - 6 * 60 }, NOW).proved).toBe(
			false
		);
	});
});

describe('mfaProof: hostile claims', () => {
	test('amr that is not an array: a string, an object, a number', () => {
		for (const amr of ['mfa', { 0: 'mfa' }, 1, null, true])
			expect(refused(mfaProof(setting, { amr, auth_time: recent }, NOW)).reason).toBe('no-method');
	});
	test('amr items that are not strings, empty, or huge are skipped', () => {
		const amr = [['mfa'], { mfa: true }, 1, '', 'x'.repeat(201), null];
		const v = refused(mfaProof(setting, { amr, auth_time: recent }, NOW));
		expect(v.amr).toEqual([]);
	});
	test('a huge amr array is read only up to its bound', () => {
		const amr = [...Array(AMR_ITEMS).fill('pwd'), 'mfa'];
		const v = refused(mfaProof(setting, { amr, auth_time: recent }, NOW));
		expect(v.amr).toHaveLength(AMR_ITEMS);
		const huge = Array(1_000_000).fill('pwd');
		expect(mfaProof(setting, { amr: huge, auth_time: recent }, NOW).proved).toBe(false);
	});
	test('acr that is not a string', () => {
		const withAcr = { ...setting, acr: ['1'] };
		expect(mfaProof(withAcr, { acr: 1, auth_time: recent }, NOW).proved).toBe(false);
		expect(mfaProof(withAcr, { acr: ['1'], auth_time: recent }, NOW).proved).toBe(false);
	});
	test('auth_time missing, a string, NaN, Infinity, or an object', () => {
		for (const authTime of [undefined, String(recent), NaN, Infinity, { t: recent }, null]) {
			const v = refused(mfaProof(setting, { amr: ['mfa'], auth_time: authTime }, NOW));
			expect(v.reason).toBe('no-auth-time');
		}
		expect(noProofWords(refused(mfaProof(setting, { amr: ['mfa'] }, NOW)))).toMatch(
			/no usable auth_time/
		);
	});
	test('auth_time in the future, beyond the tolerance', () => {
		const v = refused(
			mfaProof(setting, { amr: ['mfa'], auth_time: nowSeconds + CLOCK_TOLERANCE_SECONDS + 1 }, NOW)
		);
		expect(v.reason).toBe('auth-time-future');
		expect(noProofWords(v)).toMatch(/future/);
		const far = refused(mfaProof(setting, { amr: ['mfa'], auth_time: 1e15 }, NOW));
		expect(far.reason).toBe('auth-time-future');
	});
	test('the words show a bounded, printable account of what the token held', () => {
		const amr = [...Array(30).fill('pwd'), 'x'.repeat(150)];
		const words = noProofWords(refused(mfaProof(setting, { amr, auth_time: recent }, NOW)));
		expect(words.length).toBeLessThan(200);
		const odd = noProofWords(
			refused(mfaProof(setting, { amr: ['a\nb'], acr: 'c\u0000', auth_time: recent }, NOW))
		);
		expect(odd).toContain('a\\u000ab');
		expect(odd).not.toMatch(/[\n\u0000]/);
	});
	test('an inherited amr does not count', () => {
		const claims = Object.create({ amr: ['mfa'] }) as Record<string, unknown>;
		claims.auth_time = recent;
		expect(mfaProof(setting, claims, NOW).proved).toBe(false);
	});
});

describe('mfaMethodShown (the lock-out check)', () => {
	test('a named second factor counts whatever its age', () => {
		expect(mfaMethodShown(setting, { amr: ['hwk'] })).toBe(true);
		expect(mfaMethodShown({ ...setting, acr: ['gold'] }, { acr: 'gold' })).toBe(true);
	});
	test('none, or a hostile shape, does not', () => {
		expect(mfaMethodShown(setting, {})).toBe(false);
		expect(mfaMethodShown(setting, { amr: 'mfa' })).toBe(false);
		expect(mfaMethodShown(setting, { amr: ['pwd'] })).toBe(false);
	});
});

describe('mfaValueProblem', () => {
	test('plain values pass; spaces, control characters and long ones do not', () => {
		expect(mfaValueProblem('mfa')).toBeNull();
		expect(mfaValueProblem('urn:acr:gold')).toBeNull();
		expect(mfaValueProblem('a b')).not.toBeNull();
		expect(mfaValueProblem('a\u0000')).not.toBeNull();
		expect(mfaValueProblem('x'.repeat(101))).not.toBeNull();
	});
});
