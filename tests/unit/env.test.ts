import { describe, expect, test } from 'vitest';
import { isTruthy } from '../../src/lib/server/plain/env.js';

describe('boolean environment switches', () => {
	test.each(['true', 'TRUE', ' yes ', 'Yes', '1', '\ttrue\n'])('%j is on', (v) =>
		expect(isTruthy(v)).toBe(true)
	);
	test.each([undefined, '', 'false', '0', 'no', 'on', 'y', 'truee', '2'])('%j is off', (v) =>
		expect(isTruthy(v)).toBe(false)
	);
});
