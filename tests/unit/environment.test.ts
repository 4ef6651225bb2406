import { describe, expect, test } from 'vitest';
import { readEnvironment } from '../../src/lib/server/plain/env.js';

// Every variable is checked at start: one line per bad one, naming it, the value and an example.
describe('the environment is checked as a whole', () => {
	test('nothing set gives the documented defaults', () => {
		const { settings, problems, warnings } = readEnvironment({});
		expect(problems).toEqual([]);
		expect(warnings).toEqual([]);
		expect(settings).toMatchObject({
			databaseUrl: null,
			origin: null,
			trustedProxies: [],
			cookieSecure: false,
			ssoDisableOverride: false,
			logLevel: 'info',
			port: 3000,
			host: '0.0.0.0'
		});
	});

	test.each([
		['TRUSTED_PROXIES', 'garbage', 'TRUSTED_PROXIES=172.18.0.0/16'],
		['TRUSTED_PROXIES', '10.0.0.1, 300.1.1.1', 'TRUSTED_PROXIES=172.18.0.0/16'],
		['PORT', 'abc', 'PORT=3000'],
		['PORT', '70000', 'PORT=3000'],
		['PORT', '', 'PORT=3000'],
		['HOST', 'not a host', 'HOST=0.0.0.0'],
		['EMBEDDED_PG_PORT', '5432x', 'EMBEDDED_PG_PORT=54329'],
		['ORIGIN', 'librariarr.example.com', 'ORIGIN=https://'],
		['ORIGIN', 'ftp://librariarr.example.com', 'ORIGIN=https://'],
		['ORIGIN', 'https://librariarr.example.com/app', 'ORIGIN=https://'],
		['ORIGIN', '', 'ORIGIN=https://'],
		['LOG_LEVEL', 'loud', 'LOG_LEVEL=info'],
		['DATABASE_URL', 'localhost:5432', 'DATABASE_URL=postgres://'],
		['BODY_SIZE_LIMIT', '50 megabytes', 'BODY_SIZE_LIMIT=52M'],
		['PLEX_API_URL', 'plex.tv', 'PLEX_API_URL=https://plex.tv']
	])('%s=%j is refused in one line with an example', (name, value, example) => {
		const { settings, problems } = readEnvironment({ [name]: value });
		expect(settings).toBeNull();
		expect(problems).toHaveLength(1);
		expect(problems[0]).toContain(`${name}=${JSON.stringify(value)}`);
		expect(problems[0]).toContain(`Example: ${example}`);
		expect(problems[0]).not.toContain('\n');
	});

	test('each bad variable gets its own line', () => {
		const { problems } = readEnvironment({ PORT: 'x', LOG_LEVEL: 'y', TRUSTED_PROXIES: 'z' });
		expect(problems.map((p) => p.split('=')[0]).sort()).toEqual([
			'LOG_LEVEL',
			'PORT',
			'TRUSTED_PROXIES'
		]);
	});

	test('a bad DATABASE_URL is quoted without its password', () => {
		const { problems } = readEnvironment({ DATABASE_URL: 'mysql://app:s3cret@db/app' });
		expect(problems[0]).toContain('DATABASE_URL="mysql://…@db/app"');
		expect(problems[0]).not.toContain('s3cret');
	});

	test('good values pass', () => {
		const { settings, problems } = readEnvironment({
			DATABASE_URL: 'postgresql://app:pw@db:5432/app',
			PORT: '8080',
			HOST: '::',
			ORIGIN: 'https://Media.Example.com/',
			TRUSTED_PROXIES: '172.18.0.0/16, 10.0.0.2 loopback',
			LOG_LEVEL: 'WARN',
			BODY_SIZE_LIMIT: '52M',
			EMBEDDED_PG_PORT: '5433'
		});
		expect(problems).toEqual([]);
		expect(settings).toMatchObject({
			port: 8080,
			host: '::',
			origin: 'https://media.example.com',
			trustedProxies: ['172.18.0.0/16', '10.0.0.2', 'loopback'],
			logLevel: 'warn'
		});
	});

	test.each(['on', 'enabled', 'ture'])(
		'SSO_DISABLE_OVERRIDE=%j is not understood: it counts as off, with a warning',
		(word) => {
			const { settings, problems, warnings } = readEnvironment({ SSO_DISABLE_OVERRIDE: word });
			expect(problems).toEqual([]);
			expect(settings?.ssoDisableOverride).toBe(false);
			expect(warnings).toHaveLength(1);
			expect(warnings[0]).toContain(`SSO_DISABLE_OVERRIDE=${JSON.stringify(word)}`);
			expect(warnings[0]).toContain('true, 1 or yes');
		}
	);

	test.each(['true', ' YES ', '1', 'false', '0', 'no', ''])(
		'SSO_DISABLE_OVERRIDE=%j is understood without a warning',
		(word) => expect(readEnvironment({ SSO_DISABLE_OVERRIDE: word }).warnings).toEqual([])
	);

	test('COOKIE_SECURE=on is not understood either', () => {
		const { settings, warnings } = readEnvironment({ COOKIE_SECURE: 'on' });
		expect(settings?.cookieSecure).toBe(false);
		expect(warnings[0]).toContain('COOKIE_SECURE="on"');
	});
});
