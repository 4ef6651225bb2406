import { describe, expect, test } from 'vitest';
import { isTruthy, METRICS_TOKEN_MIN, readEnvironment } from '../../src/lib/server/plain/env.js';

describe('boolean environment switches', () => {
	test.each(['true', 'TRUE', ' yes ', 'Yes', '1', '\ttrue\n'])('%j is on', (v) =>
		expect(isTruthy(v)).toBe(true)
	);
	test.each([undefined, '', 'false', '0', 'no', 'on', 'y', 'truee', '2'])('%j is off', (v) =>
		expect(isTruthy(v)).toBe(false)
	);
});

describe('METRICS_TOKEN', () => {
	const read = (value: string | undefined) => readEnvironment({ METRICS_TOKEN: value });
	test('unset or empty: metrics off', () => {
		expect(read(undefined).settings?.metricsToken).toBeNull();
		expect(read('').settings?.metricsToken).toBeNull();
	});
	test('a long visible value turns them on', () => {
		const token = 'x'.repeat(METRICS_TOKEN_MIN);
		expect(read(token).settings?.metricsToken).toBe(token);
	});
	test.each([
		['too short', 'x'.repeat(METRICS_TOKEN_MIN - 1), /shorter than 24 characters/],
		['a space inside', `${'x'.repeat(20)} ${'y'.repeat(20)}`, /visible ASCII/],
		['a line break', `${'x'.repeat(30)}\n`, /visible ASCII/]
	])('%s: one start-up line that does not show the value', (_what, value, words) => {
		const { settings, problems } = read(value);
		expect(settings).toBeNull();
		expect(problems).toHaveLength(1);
		expect(problems[0]).toMatch(words);
		expect(problems[0]).toContain('not shown');
		expect(problems[0]).not.toContain('xxxx');
	});
});
