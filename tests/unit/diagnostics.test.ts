import { describe, expect, test } from 'vitest';
import type { ClientInfo } from '../../src/lib/server/client';
import { diagnose, type DiagnosticsInput } from '../../src/lib/server/diagnostics';

function input(over: {
	client?: Partial<ClientInfo>;
	headers?: Record<string, string>;
	host?: string;
	secureCookies?: boolean;
	config?: Partial<DiagnosticsInput['config']>;
	forwardAuth?: DiagnosticsInput['forwardAuth'];
}): DiagnosticsInput {
	return {
		client: {
			peer: '172.18.0.5',
			peerTrusted: false,
			ip: '172.18.0.5',
			origin: 'http://media.example',
			originMismatch: null,
			...over.client
		},
		headers: new Headers(over.headers ?? {}),
		host: over.host ?? 'media.example',
		secureCookies: over.secureCookies ?? false,
		config: { origin: null, trustedProxies: [], cookieSecure: false, ...over.config },
		forwardAuth: over.forwardAuth ?? null
	};
}

const ids = (d: ReturnType<typeof diagnose>) => d.problems.map((p) => p.id);

describe('what the server sees', () => {
	test('a direct request with nothing forwarded has no problems and the origin comes from Host', () => {
		const d = diagnose(input({}));
		expect(d.problems).toEqual([]);
		expect(d.originSource).toBe('host');
		expect(d.redirectUri).toBe('http://media.example/api/auth/sso/oidc/callback');
		expect(d.secureCookies).toBe(false);
		expect(d.forwarded.every((h) => h.value === null)).toBe(true);
	});

	test('https behind a proxy that is not trusted: the fix names the proxy for TRUSTED_PROXIES', () => {
		const d = diagnose(
			input({
				headers: {
					'x-forwarded-proto': 'https',
					'x-forwarded-for': '203.0.113.9',
					'x-forwarded-host': 'media.example'
				}
			})
		);
		expect(ids(d)).toEqual(['https_unseen']);
		expect(d.problems[0].fix).toBe('add your proxy: TRUSTED_PROXIES=172.18.0.5');
		expect(d.forwarded.find((h) => h.name === 'X-Forwarded-For')?.value).toBe('203.0.113.9');
	});

	test('the proxy is appended to an existing TRUSTED_PROXIES list', () => {
		const d = diagnose(
			input({
				client: { peer: '::ffff:10.0.0.7' },
				headers: { 'x-forwarded-proto': 'https' },
				config: { trustedProxies: ['127.0.0.1/32'] }
			})
		);
		expect(d.problems[0].fix).toBe('add your proxy: TRUSTED_PROXIES=127.0.0.1/32,10.0.0.7');
	});

	test('https seen by the browser (Referer) while ORIGIN says http: the fix is ORIGIN', () => {
		const d = diagnose(
			input({
				headers: { referer: 'https://media.example/settings' },
				config: { origin: 'http://media.example' }
			})
		);
		expect(ids(d)).toContain('https_unseen');
		expect(d.problems.find((p) => p.id === 'https_unseen')?.fix).toBe(
			'set ORIGIN=https://media.example'
		);
		expect(d.originSource).toBe('ORIGIN');
	});

	test('a trusted proxy that does not send X-Forwarded-Proto is told to', () => {
		const d = diagnose(
			input({
				client: { peerTrusted: true },
				headers: { forwarded: 'for=203.0.113.9;proto=https' },
				config: { trustedProxies: ['172.16.0.0/12'] }
			})
		);
		expect(ids(d)).toEqual(['https_unseen']);
		expect(d.problems[0].fix).toMatch(/X-Forwarded-Proto/);
	});

	test('forwarded headers from an untrusted peer are reported as ignored', () => {
		const d = diagnose(input({ headers: { 'x-forwarded-for': '6.6.6.6' } }));
		expect(ids(d)).toEqual(['untrusted_forwarded']);
		expect(d.problems[0].fix).toContain('TRUSTED_PROXIES=172.18.0.5');
	});

	test('a trusted proxy: the origin comes from the forwarded headers, no problems', () => {
		const d = diagnose(
			input({
				client: { peerTrusted: true, ip: '203.0.113.9', origin: 'https://media.example' },
				headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' },
				host: '127.0.0.1:3000',
				secureCookies: true,
				config: { trustedProxies: ['172.18.0.5'] }
			})
		);
		expect(d.problems).toEqual([]);
		expect(d.originSource).toBe('forwarded');
		expect(d.redirectUri).toBe('https://media.example/api/auth/sso/oidc/callback');
		expect(d.secureCookiesWhy).toBe('the public origin is https');
	});

	test('ORIGIN that differs from the address in use', () => {
		const d = diagnose(
			input({
				client: { origin: 'https://media.example' },
				host: '192.168.1.20:3000',
				config: { origin: 'https://media.example' },
				secureCookies: true
			})
		);
		expect(ids(d)).toEqual(['origin_mismatch', 'secure_cookie_over_http']);
		expect(d.problems[0].fix).toBe(
			'set ORIGIN=http://192.168.1.20:3000, or open Librariarr at https://media.example'
		);
	});

	test('COOKIE_SECURE over plain http is reported (the browser drops the cookies)', () => {
		const d = diagnose(input({ secureCookies: true, config: { cookieSecure: true } }));
		expect(ids(d)).toEqual(['secure_cookie_over_http']);
		expect(d.problems[0].fix).toContain('unset COOKIE_SECURE');
	});

	test('forward auth: the user header value is shown, the others only as present or not', () => {
		const names = { user: 'Remote-User', email: 'Remote-Email', name: 'Remote-Name' };
		const d = diagnose(
			input({
				client: { peerTrusted: true },
				headers: { 'remote-user': 'alice', 'remote-email': 'alice@example.test' },
				forwardAuth: names
			})
		);
		expect(d.forwardAuth).toEqual({
			user: { name: 'Remote-User', value: 'alice' },
			others: [
				{ name: 'Remote-Email', present: true },
				{ name: 'Remote-Name', present: false }
			]
		});
		expect(JSON.stringify(d)).not.toContain('alice@example.test');
		expect(d.problems).toEqual([]);
		expect(ids(diagnose(input({ client: { peerTrusted: true }, forwardAuth: names })))).toEqual([
			'forward_user_missing'
		]);
		expect(
			ids(diagnose(input({ headers: { 'remote-user': 'alice' }, forwardAuth: names })))
		).toEqual(['forward_untrusted']);
	});

	test('long header values are cut, so the page stays bounded', () => {
		const d = diagnose(input({ headers: { 'x-forwarded-for': '1'.repeat(5000) } }));
		expect(d.forwarded[0].value!.length).toBeLessThanOrEqual(301);
	});
});
