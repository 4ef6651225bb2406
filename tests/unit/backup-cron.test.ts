import { describe, expect, test } from 'vitest';
import { isDue, isValidCron, schedulePattern } from '../../src/lib/cron';

describe('backup schedules', () => {
	test('presets, cron expressions and off', () => {
		expect(schedulePattern('off', '0 4 * * *')).toBeNull();
		expect(schedulePattern('daily', null)).toBe('0 3 * * *');
		expect(schedulePattern('weekly', null)).toBe('0 3 * * 0');
		expect(schedulePattern('cron', ' 0 4 * * * ')).toBe('0 4 * * *');
		expect(schedulePattern('cron', 'not a cron')).toBeNull();
		expect(schedulePattern('cron', null)).toBeNull();
		expect(schedulePattern('hourly', null)).toBeNull();
	});

	test('cron validation', () => {
		for (const ok of ['0 4 * * *', '*/15 * * * * *', '0 0 1 1 *', '@daily']) {
			expect(isValidCron(ok), ok).toBe(true);
		}
		for (const bad of ['', 'every tuesday', '61 * * * *', '* * * * * * * *', '0 25 * * *']) {
			expect(isValidCron(bad), bad).toBe(false);
		}
	});

	test('due when an occurrence lies after the last backup and not after now', () => {
		const pattern = '0 4 * * *';
		const local = (h: number, m = 0, day = 10) => new Date(2026, 10, day, h, m);
		expect(isDue(pattern, local(3), local(3, 59))).toBe(false);
		expect(isDue(pattern, local(3), local(4))).toBe(true);
		expect(isDue(pattern, local(4, 0, 10), local(23))).toBe(false); // ran at 04:00 already
		expect(isDue(pattern, local(4, 1, 9), local(4, 0, 10))).toBe(true); // yesterday's, a day on
		expect(isDue(pattern, local(5, 0, 1), local(5, 0, 10))).toBe(true); // missed ones: one run
	});
});
