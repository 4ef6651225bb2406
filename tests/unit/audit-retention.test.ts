import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { auditRetentionSchema } from '../../src/lib/schemas/audit';

const parse = (auditRetentionDays: unknown) =>
	v.safeParse(auditRetentionSchema, { auditRetentionDays });

describe('audit retention form rule', () => {
	test.each([
		['1', 1],
		['90', 90],
		[' 30 ', 30],
		['3650', 3650],
		['007', 7]
	])('"%s" days is accepted as %d', (input, days) => {
		const result = parse(input);
		expect(result.success && result.output.auditRetentionDays).toBe(days);
	});

	test.each([
		['0'],
		['3651'],
		[''],
		['  '],
		['1.5'],
		['-1'],
		['1e3'],
		['0x10'],
		['12 days'],
		['9'.repeat(30)]
	])('%j is refused with the range in the message', (input) => {
		const result = parse(input);
		expect(result.success).toBe(false);
		expect(result.issues?.[0].message).toBe(
			'Keep audit entries for 1 to 3650 days (a whole number).'
		);
	});

	test('control characters and non-strings are refused by the shared text-field rule', () => {
		const control = parse('3\u00000');
		expect(control.success).toBe(false);
		expect(control.issues?.[0].message).toMatch(/control characters/);
		expect(parse(5).success).toBe(false);
		expect(parse(null).success).toBe(false);
	});
});
