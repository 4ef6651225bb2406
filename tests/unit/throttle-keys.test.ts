import { describe, expect, test } from 'vitest';
import { describeThrottleKey } from '../../src/lib/server/auth/throttle-keys';

describe('throttle keys read as what they limit', () => {
	test.each([
		['password:address:203.0.113.9', 'password', ['Password', 'Address', '203.0.113.9']],
		['password:account:admin', 'password', ['Password', 'Username', 'admin']],
		[
			'password:pair:203.0.113.9:admin',
			'password',
			['Password', 'Address and username', '203.0.113.9 and admin']
		],
		[
			'password:pair:2001:db8::1:ad:min',
			'password',
			['Password', 'Address and username', '2001:db8::1:ad and min']
		],
		[
			'password:pair:2001:db8:7:8::/64:admin',
			'password',
			['Password', 'Address and username', '2001:db8:7:8::/64 and admin']
		],
		['password:pair:::1:admin', 'password', ['Password', 'Address and username', '::1 and admin']],
		[
			'current-password:account:admin',
			'current-password',
			['Current password (settings)', 'Username', 'admin']
		],
		[
			'password:device:3f9a0c',
			'password',
			['Password', 'Known browser', 'a browser that signed in before']
		],
		[
			'password:known:203.0.113.9',
			'password',
			['Password', 'Known browsers at an address', '203.0.113.9']
		],
		['restore-ip:198.51.100.1', 'restore', ['restore', 'Other', 'restore-ip:198.51.100.1']]
	])('%s', (key, kind, [check, scope, target]) =>
		expect(describeThrottleKey(key, kind)).toEqual({ check, scope, target })
	);
});
