import { describe, expect, test } from 'vitest';
import { passkeyHost, passkeyHostWords } from '../../src/lib/server/auth/passkey-host';

describe('where passkeys can work', () => {
	test.each(['http://localhost:3000', 'https://librariarr.example.com', 'http://nas.local:8080'])(
		'%s: a host name, passkeys work',
		(origin) => expect(passkeyHost(origin, null)).toEqual({ usable: true })
	);

	test('an IPv4 LAN address: not usable; ORIGIN with a host name is the address to use', () => {
		expect(passkeyHost('http://192.168.1.10:3000', 'https://library.home.arpa')).toEqual({
			usable: false,
			host: '192.168.1.10',
			useInstead: 'https://library.home.arpa'
		});
		const unknown = passkeyHost('http://192.168.1.10:3000', null);
		expect(unknown).toEqual({ usable: false, host: '192.168.1.10', useInstead: null });
		if (!unknown.usable) expect(passkeyHostWords(unknown)).toMatch(/by a host name/);
	});

	test('a loopback address (IPv4 or IPv6) points to localhost on the same port', () => {
		expect(passkeyHost('http://127.0.0.1:3000', null)).toEqual({
			usable: false,
			host: '127.0.0.1',
			useInstead: 'http://localhost:3000'
		});
		const v6 = passkeyHost('http://[::1]:5173', 'http://[::1]:5173');
		expect(v6).toEqual({ usable: false, host: '::1', useInstead: 'http://localhost:5173' });
		if (!v6.usable)
			expect(passkeyHostWords(v6)).toBe(
				'Browsers do not allow passkeys at an IP address, and this page is open at ::1. Open Librariarr at http://localhost:5173 to add or use one.'
			);
	});
});
