import { describe, expect, test } from 'vitest';
import {
	clockWords,
	clockWordsSince,
	lastClockReading,
	noteProviderDate,
	offsetFromDate
} from '../../src/lib/server/auth/sources/provider-clock';

const NOW = Date.parse('2026-12-07T17:00:00Z');

describe("the provider's clock", () => {
	test('offset from the Date header, in whole seconds; missing or unreadable is null', () => {
		expect(offsetFromDate('Mon, 07 Dec 2026 17:00:45 GMT', NOW)).toBe(45);
		expect(offsetFromDate('Mon, 07 Dec 2026 16:58:00 GMT', NOW)).toBe(-120);
		expect(offsetFromDate(null, NOW)).toBeNull();
		expect(offsetFromDate('yesterday-ish', NOW)).toBeNull();
	});

	test('words only above 30 s, saying which way', () => {
		expect(clockWords(30)).toBeNull();
		expect(clockWords(-5)).toBeNull();
		expect(clockWords(null)).toBeNull();
		expect(clockWords(45)).toMatch(
			/^this server's clock differs from the provider's by 45 s \(it is behind the provider's\)/
		);
		expect(clockWords(-120)).toContain('by 120 s (it is ahead of the provider');
	});

	test("a reading counts for the request that took it, not for an older one's", () => {
		noteProviderDate('Mon, 07 Dec 2026 17:01:00 GMT', 'https://idp.example/token', NOW);
		expect(lastClockReading()).toEqual({ seconds: 60, at: NOW, from: 'https://idp.example' });
		expect(clockWordsSince(NOW)).toContain('by 60 s');
		expect(clockWordsSince(NOW + 1)).toBeNull();
	});
});
