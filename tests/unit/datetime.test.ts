import { describe, expect, test } from 'vitest';
import { formatDateTime, formatDateTimeUtc } from '../../src/lib/datetime';

describe('dates are shown one way: YYYY-MM-DD HH:mm', () => {
	test('in UTC, the zone named, as the server renders it', () => {
		expect(formatDateTimeUtc('2026-12-01T19:40:59.999Z')).toBe('2026-12-01 19:40 UTC');
	});

	test.each([
		['UTC', '2026-03-05T00:07:00Z', '2026-03-05 00:07'],
		['Europe/Berlin', '2026-12-01T19:40:00Z', '2026-12-01 20:40'],
		['Europe/Berlin', '2026-07-01T19:40:00Z', '2026-07-01 21:40'], // summer time
		['America/New_York', '2026-01-01T03:15:00Z', '2025-12-31 22:15'], // the day before
		['Asia/Kolkata', '2026-12-01T19:40:00Z', '2026-12-02 01:10'], // half-hour offset
		['Pacific/Kiritimati', '2026-12-31T12:00:00Z', '2027-01-01 02:00']
	])('in %s, %s is %s', (zone, iso, shown) => {
		expect(formatDateTime(iso, zone)).toBe(shown);
	});

	test('midnight is 00, not 24, and a Date works as well as a string', () => {
		expect(formatDateTime(new Date('2026-12-01T00:00:00Z'), 'UTC')).toBe('2026-12-01 00:00');
	});
});
