import { describe, expect, test } from 'vitest';
import { describeUserAgent, deviceLine } from '../../src/lib/server/user-agent';

describe('a User-Agent reads as browser and system', () => {
	test.each([
		[
			'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
			{ browser: 'Chrome 156', system: 'Linux' }
		],
		[
			'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
			{ browser: 'Firefox 133', system: 'Windows 10' }
		],
		[
			'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
			{ browser: 'Safari 17', system: 'iOS 17' }
		],
		['curl/8.5.0', { browser: 'curl/8.5.0', system: 'Unknown' }]
	])('%s', (ua, expected) => expect(describeUserAgent(ua)).toEqual(expected));

	test.each([null, undefined, '', '   ', '\u0000\u0001', '<script>'])(
		'%j is an unknown browser, never an error',
		(ua) => expect(deviceLine(ua)).toBe('Unknown browser')
	);
});
