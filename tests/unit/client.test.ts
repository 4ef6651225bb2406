import { describe, expect, test } from 'vitest';
import {
	addressPrefix,
	compareWithOrigin,
	isCrossOriginWrite,
	normaliseAddress,
	parseForwardedHost,
	parseForwardedProto
} from '../../src/lib/server/client';

describe('forwarded headers are validated before use', () => {
	test.each([
		['librariarr.example.com', 'librariarr.example.com'],
		['Media.Example.com:8443', 'media.example.com:8443'],
		['a.example, b.example', 'a.example'],
		['[::1]:3000', '[::1]:3000']
	])('host %j → %j', (input, expected) => expect(parseForwardedHost(input)).toBe(expected));

	test.each([
		null,
		'',
		'evil.example/path',
		'user@evil.example',
		'evil.example:99999',
		'exa mple.com',
		'evil.example\r\nx: y'
	])('host %j is refused', (input) => expect(parseForwardedHost(input)).toBeNull());

	test.each([
		['https', 'https'],
		['HTTP', 'http'],
		['https, http', 'https']
	])('proto %j → %j', (input, expected) => expect(parseForwardedProto(input)).toBe(expected));

	test.each([null, 'ftp', 'https:', 'javascript'])('proto %j is refused', (input) =>
		expect(parseForwardedProto(input)).toBeNull()
	);

	test('IPv4-mapped IPv6 addresses are shown in their short form', () => {
		expect(normaliseAddress('::ffff:10.0.0.2')).toBe('10.0.0.2');
		expect(normaliseAddress('::1')).toBe('::1');
	});
});

describe('cross-origin writes', () => {
	const origin = 'https://media.example';
	const h = (o?: string) => new Headers(o ? { origin: o } : {});
	test('safe methods pass whatever their origin', () => {
		expect(isCrossOriginWrite('GET', h('https://evil'), origin)).toBe(false);
		expect(isCrossOriginWrite('HEAD', h(), origin)).toBe(false);
	});
	test('writes need the exact public origin', () => {
		expect(isCrossOriginWrite('POST', h(origin), origin)).toBe(false);
		expect(isCrossOriginWrite('POST', h('https://evil'), origin)).toBe(true);
		expect(isCrossOriginWrite('POST', h('http://media.example'), origin)).toBe(true);
		expect(isCrossOriginWrite('POST', h(), origin)).toBe(true);
		expect(isCrossOriginWrite('DELETE', h('null'), origin)).toBe(true);
	});
});

describe('one address-prefix rule for everything keyed by address', () => {
	test.each([
		['203.0.113.9', '203.0.113.9'],
		['::ffff:203.0.113.9', '203.0.113.9'],
		['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
		['2001:DB8:1:2::ffff', '2001:db8:1:2::/64'],
		['::1', '::/64'],
		['fe80::1', 'fe80::/64'],
		['unknown', 'unknown']
	])('%s → %s', (address, prefix) => expect(addressPrefix(address)).toBe(prefix));
});

describe('the ORIGIN banner: the page is open at another address than ORIGIN', () => {
	const at = (host: string, more: Record<string, string> = {}) => new Headers({ host, ...more });

	test('never shown when the host matches, whatever scheme the app cannot see', () => {
		expect(compareWithOrigin('https://media.example', false, at('media.example'))).toBeNull();
		expect(compareWithOrigin('http://localhost:3000', false, at('localhost:3000'))).toBeNull();
		// a TLS proxy that is not trusted: the app sees http, the browser used https
		expect(
			compareWithOrigin(
				'https://media.example',
				false,
				at('media.example', { 'x-forwarded-proto': 'http' })
			)
		).toBeNull();
	});

	test('names both addresses when the host differs (the compose file opened at localhost)', () => {
		expect(
			compareWithOrigin('https://librariarr.example.com', false, at('localhost:3000'))
		).toEqual({
			seen: 'http://localhost:3000',
			configured: 'https://librariarr.example.com'
		});
		expect(compareWithOrigin('http://192.168.1.5:3000', false, at('192.168.1.5:8080'))?.seen).toBe(
			'http://192.168.1.5:8080'
		);
	});

	test("a trusted proxy's scheme and host count; an untrusted peer's forwarded headers do not", () => {
		const forwarded = { 'x-forwarded-host': 'media.example', 'x-forwarded-proto': 'http' };
		expect(compareWithOrigin('https://media.example', true, at('app:3000', forwarded))).toEqual({
			seen: 'http://media.example',
			configured: 'https://media.example'
		});
		expect(
			compareWithOrigin(
				'https://media.example',
				true,
				at('app:3000', { ...forwarded, 'x-forwarded-proto': 'https' })
			)
		).toBeNull();
		expect(
			compareWithOrigin('https://media.example', false, at('media.example', forwarded))
		).toBeNull();
	});

	test('a Host header that is not a bare host is ignored rather than shown', () => {
		expect(
			compareWithOrigin('https://media.example', false, at('evil.example/<script>'))
		).toBeNull();
	});
});
