import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { safeReturnTo } from '../../src/lib/server/auth/redirect';

const SITE = 'https://librariarr.example';

/** What a browser does with a Location header value: resolve it against the current page. */
function browserTarget(location: string) {
	return new URL(location, `${SITE}/login`);
}

/** The promise, stated once: home, or a single-slash path without tricks that stays on this site. */
function staysOnSite(result: string) {
	expect(result.startsWith('/')).toBe(true);
	expect(result.startsWith('//')).toBe(false);
	expect(result).not.toMatch(/[\\\u0000-\u001f\u007f-\u009f]/);
	expect(browserTarget(result).origin).toBe(SITE);
}

describe('safeReturnTo: only paths on this site', () => {
	test.each([
		['/settings/authentication', '/settings/authentication'],
		['/a?b=c#d', '/a?b=c#d'],
		['/../etc/passwd', '/etc/passwd'],
		['/a/./b/../c', '/a/c'],
		['/settings?next=//evil.example', '/settings?next=//evil.example'],
		['/#//evil.example', '/#//evil.example']
	])('keeps %j as %j', (input, expected) => {
		expect(safeReturnTo(input)).toBe(expected);
	});

	// Every way found of reaching `//host` (another site) or a scheme once the URL is normalised,
	// plus the raw tricks: absolute URLs, backslashes, control characters, tabs and newlines.
	test.each([
		null,
		undefined,
		'',
		'https://evil.example/',
		'//evil.example',
		'///evil.example',
		'/\\evil.example',
		'\\\\evil.example',
		'\\/evil.example',
		'javascript:alert(1)',
		'http:/evil.example',
		'evil.example',
		'./evil.example',
		// dot segments that collapse into a leading `//`
		'/.//evil.example',
		'/./evil.example/..//evil.example',
		'/..//evil.example',
		'/../..//evil.example',
		'/a/..//evil.example',
		'/a/b/../..//evil.example',
		'/.//evil.example/path?x=1#y',
		// percent-encoded dots, any case, mixed with plain ones
		'/%2e//evil.example',
		'/%2E//evil.example',
		'/%2e%2e//evil.example',
		'/%2E%2E//evil.example',
		'/.%2e//evil.example',
		'/%2e.//evil.example',
		'/a/%2e%2e//evil.example',
		'/a/%2E./%2e//evil.example',
		// control characters, tabs and newlines (the URL parser drops tabs and newlines silently)
		'/\t/evil.example',
		'/\n/evil.example',
		'/\r/evil.example',
		'/.\t//evil.example',
		'/\tevil',
		'/foo\nSet-Cookie: x=1',
		'/foo\r\nLocation: https://evil.example',
		'/\u0000/evil.example',
		'/\u001b[2Jx',
		'/\u007f',
		'/\u0085x',
		// backslashes anywhere, which browsers treat as slashes
		'/.\\/evil.example',
		'/a\\..\\..\\\\evil.example',
		'/%5c/evil.example/..\\'
	])('sends %j home', (input) => {
		expect(safeReturnTo(input)).toBe('/');
	});

	test('sends a path longer than any this app makes home', () => {
		expect(safeReturnTo(`/${'a'.repeat(4096)}`)).toBe('/');
	});

	test('the result is never an off-site target, for any string built from the tricky pieces', () => {
		// Mostly the pieces that make dot segments and slashes, so that `/.//host` and its
		// cousins come up often; the rest for variety.
		const piece = fc.oneof(
			{ weight: 6, arbitrary: fc.constantFrom('/', '.', '..', '%2e', '%2E', '//') },
			{
				weight: 3,
				arbitrary: fc.constantFrom(
					'\\',
					'%2f',
					'%2F',
					'%5c',
					'%09',
					'%00',
					'\t',
					'\n',
					'\r',
					'\u0000',
					'\u001b',
					'\u007f',
					'\u0085',
					'\u2028',
					'\u3002',
					'\uff0f',
					' ',
					'@',
					':',
					'?',
					'#'
				)
			},
			{
				weight: 2,
				arbitrary: fc.constantFrom('a', 'evil.example', 'http:', 'javascript:', 'localhost')
			}
		);
		fc.assert(
			fc.property(fc.boolean(), fc.array(piece, { maxLength: 10 }), (slash, pieces) => {
				const result = safeReturnTo((slash ? '/' : '') + pieces.join(''));
				staysOnSite(result);
				// Normalising twice changes nothing: what goes out is what would be accepted.
				expect(safeReturnTo(result)).toBe(result);
			}),
			{ numRuns: 5000 }
		);
	});

	test('the result is never an off-site target, for arbitrary strings', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (value) => {
				staysOnSite(safeReturnTo(value));
				staysOnSite(safeReturnTo(`/${value}`));
			}),
			{ numRuns: 5000 }
		);
	});
});
