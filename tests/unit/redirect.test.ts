import { describe, expect, test } from 'vitest';
import { safeReturnTo } from '../../src/lib/server/auth/redirect';

describe('safeReturnTo: only paths on this site', () => {
	test.each([
		['/settings/authentication', '/settings/authentication'],
		['/a?b=c#d', '/a?b=c#d'],
		['/../etc/passwd', '/etc/passwd']
	])('keeps %s', (input, expected) => {
		expect(safeReturnTo(input)).toBe(expected);
	});

	test.each([
		null,
		'',
		'https://evil.example/',
		'//evil.example',
		'/\\evil.example',
		'\\\\evil.example',
		'javascript:alert(1)',
		'/\tevil',
		'/foo\nSet-Cookie: x=1',
		'http:/evil.example'
	])('sends %j home', (input) => {
		expect(safeReturnTo(input)).toBe('/');
	});
});
