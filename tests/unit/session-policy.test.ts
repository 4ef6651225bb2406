import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import {
	hoursText,
	IDLE_CHOICES,
	lengthens,
	LIFETIME_CHOICES,
	sessionPolicySchema
} from '../../src/lib/schemas/session-policy';

const parse = (lifetimeHours: string, idleHours: string) =>
	v.safeParse(sessionPolicySchema, { lifetimeHours, idleHours });

describe('the session policy form', () => {
	test('takes whole hours in range, and Off for the idle timeout', () => {
		expect(parse(' 720 ', 'off').output).toEqual({ lifetimeHours: 720, idleHours: null });
		expect(parse('1', '720').output).toEqual({ lifetimeHours: 1, idleHours: 720 });
		expect(parse('8760', '1').output).toEqual({ lifetimeHours: 8760, idleHours: 1 });
	});

	test('every preset the page offers passes', () => {
		for (const h of LIFETIME_CHOICES) expect(parse(String(h), 'off').success).toBe(true);
		for (const h of IDLE_CHOICES) expect(parse('24', String(h)).success).toBe(true);
	});

	test('refuses anything else with a sentence naming the range', () => {
		for (const bad of ['0', '8761', '-1', '1.5', '1e3', '', 'off', '0x10', '٣']) {
			const out = parse(bad, 'off');
			expect(out.success, bad).toBe(false);
			expect(out.issues?.[0].message).toBe('Choose a lifetime from 1 hour to 365 days.');
		}
		for (const bad of ['0', '721', 'OFF ', 'never', '']) {
			const out = parse('24', bad);
			expect(out.success, bad).toBe(false);
			expect(out.issues?.[0].message).toMatch(/^Choose an idle timeout from 1 hour to 30 days/);
		}
	});

	test('names hours as days when they divide', () => {
		expect([1, 12, 24, 48, 720, 36].map(hoursText)).toEqual([
			'1 hour',
			'12 hours',
			'1 day',
			'2 days',
			'30 days',
			'36 hours'
		]);
	});
});

describe('which changes make sessions last longer (step-up)', () => {
	const p = (lifetimeHours: number, idleHours: number | null) => ({ lifetimeHours, idleHours });
	test('a longer lifetime, a longer idle timeout, or turning it off', () => {
		expect(lengthens(p(720, null), p(2160, null))).toBe(true);
		expect(lengthens(p(720, 8), p(720, 24))).toBe(true);
		expect(lengthens(p(720, 8), p(720, null))).toBe(true);
		expect(lengthens(p(720, 8), p(24, null))).toBe(true);
	});
	test('the same, shorter, or an idle timeout where there was none', () => {
		expect(lengthens(p(720, null), p(720, null))).toBe(false);
		expect(lengthens(p(720, null), p(24, null))).toBe(false);
		expect(lengthens(p(720, null), p(720, 8))).toBe(false);
		expect(lengthens(p(720, 24), p(720, 8))).toBe(false);
	});
});
