// The sealed cookie that holds a sign-in in progress (src/lib/server/auth/sign-in-flows.ts):
// it opens only for its own kind, under the key that sealed it, before its expiry; anything else
// reads as "no flow" and never throws; and it stays small whatever a visitor sends.
import type { Cookies } from '@sveltejs/kit';
import { beforeAll, describe, expect, test } from 'vitest';
import { derivedKey, loadKey } from '../../src/lib/server/crypto';
import {
	flowCookieName,
	MAX_COOKIE_LENGTH,
	openFlow,
	sealFlow,
	startFlow,
	takeFlow,
	type FlowData
} from '../../src/lib/server/auth/sign-in-flows';
import { MAX_RETURN_TO_LENGTH } from '../../src/lib/server/auth/redirect';

beforeAll(() => {
	// startFlow/takeFlow use the instance key; never let a test write CONFIG_DIR/secret.key.
	process.env.SECRET_KEY = 'sign-in-flows unit test';
});

const key = derivedKey('sign-in-flow-cookie', loadKey({ SECRET_KEY: 'one instance' }));
const otherKey = derivedKey('sign-in-flow-cookie', loadKey({ SECRET_KEY: 'another instance' }));
const oidc: FlowData['oidc'] = {
	purpose: 'login',
	state: 's'.repeat(43),
	nonce: 'n'.repeat(43),
	codeVerifier: 'v'.repeat(43),
	returnTo: '/settings/security',
	userId: null
};
const now = Date.parse('2026-12-07T12:00:00Z');
const later = now + 10 * 60 * 1000;

/** A cookie jar with the parts of Kit's Cookies that the module uses. */
function jar(initial: Record<string, string> = {}) {
	const values = new Map(Object.entries(initial));
	const writes: { name: string; value: string; options: Record<string, unknown> }[] = [];
	const cookies = {
		get: (name: string) => values.get(name),
		set: (name: string, value: string, options: Record<string, unknown>) => {
			values.set(name, value);
			writes.push({ name, value, options });
		},
		delete: (name: string, options: Record<string, unknown>) => {
			values.delete(name);
			writes.push({ name, value: '', options });
		}
	} as unknown as Cookies;
	return { cookies, values, writes };
}

describe('a sealed sign-in flow', () => {
	test('opens with its key and kind before its expiry, and does not show its contents', () => {
		const value = sealFlow('oidc', oidc, later, key);
		expect(value).not.toContain(oidc.state);
		expect(Buffer.from(value.slice(3), 'base64url').toString('latin1')).not.toContain('sss');
		expect(openFlow('oidc', value, now, key)).toEqual({ ...oidc, expiresAt: new Date(later) });
		expect(sealFlow('oidc', oidc, later, key)).not.toBe(value); // a fresh IV each time
	});

	test('reads as no flow once expired, under another instance key, or as another kind', () => {
		const value = sealFlow('oidc', oidc, later, key);
		expect(openFlow('oidc', value, later, key)).toBeNull();
		expect(openFlow('oidc', value, later + 1, key)).toBeNull();
		expect(openFlow('oidc', value, now, otherKey)).toBeNull();
		expect(openFlow('plex', value, now, key)).toBeNull();
		expect(openFlow('passkey', value, now, key)).toBeNull();
		const passkey = sealFlow(
			'passkey',
			{ challenge: 'c', rpId: 'h', origin: 'http://h' },
			later,
			key
		);
		expect(openFlow('passkey-register', passkey, now, key)).toBeNull();
	});

	test('a tampered cookie, or garbage, reads as no flow and never throws', () => {
		const value = sealFlow('oidc', oidc, later, key);
		const raw = Buffer.from(value.slice(3), 'base64url');
		for (const at of [0, 12, 28, raw.length - 1]) {
			const bent = Buffer.from(raw);
			bent[at] ^= 1;
			expect(
				openFlow('oidc', `v1.${bent.toString('base64url')}`, now, key),
				`byte ${at}`
			).toBeNull();
		}
		for (const junk of [
			undefined,
			'',
			'v1.',
			'v1.%%%',
			'v2.' + value.slice(3),
			value.slice(0, 40),
			value + 'A',
			'v1.' + 'A'.repeat(10_000),
			'v1.' + Buffer.alloc(40).toString('base64url')
		]) {
			expect(openFlow('oidc', junk, now, key)).toBeNull();
		}
	});

	test('stays under 4 KB with the longest return path the app accepts', () => {
		const longest = '/' + 'a'.repeat(MAX_RETURN_TO_LENGTH - 1);
		const value = sealFlow('oidc', { ...oidc, returnTo: longest, userId: 2 ** 31 }, later, key);
		expect(value.length).toBeLessThan(MAX_COOKIE_LENGTH);
		const plex = sealFlow(
			'plex',
			{
				id: 'i'.repeat(27),
				purpose: 'setup',
				plexPinId: '9'.repeat(20),
				plexPinCode: 'c'.repeat(32),
				returnTo: longest,
				userId: 2 ** 31
			},
			later,
			key
		);
		expect(plex.length).toBeLessThan(MAX_COOKIE_LENGTH);
	});
});

describe('starting and taking a flow in a browser', () => {
	test('the cookie is HttpOnly, SameSite=Lax, scoped to the paths that finish it, and lives as long as the flow', () => {
		const { cookies, writes } = jar();
		startFlow(cookies, true, 'oidc', oidc);
		startFlow(cookies, false, 'passkey-register', {
			challenge: 'c',
			rpId: 'h',
			origin: 'http://h',
			userId: 1,
			sessionId: 'x'
		});
		expect(writes.map((w) => [w.name, w.options])).toEqual([
			[
				'librariarr_oidc_tx',
				{ path: '/api/auth/sso/oidc', httpOnly: true, sameSite: 'lax', secure: true, maxAge: 600 }
			],
			[
				'librariarr_passkey_register_tx',
				{
					path: '/settings/security/passkeys',
					httpOnly: true,
					sameSite: 'lax',
					secure: false,
					maxAge: 300
				}
			]
		]);
	});

	test('taking the flow it belongs to clears the cookie; another kind in the same browser stays', () => {
		const { cookies, values } = jar();
		startFlow(cookies, false, 'oidc', oidc);
		startFlow(cookies, false, 'passkey', { challenge: 'c1', rpId: 'h', origin: 'http://h' });
		const taken = takeFlow(cookies, false, 'oidc', (f) => f.state === oidc.state);
		expect(taken?.nonce).toBe(oidc.nonce);
		expect(values.has(flowCookieName('oidc'))).toBe(false);
		expect(takeFlow(cookies, false, 'oidc', () => true)).toBeNull();
		expect(takeFlow(cookies, false, 'passkey', (f) => f.challenge === 'c1')?.origin).toBe(
			'http://h'
		);
	});

	test('a request naming another flow finds nothing and leaves this browser’s flow in place', () => {
		const { cookies, values } = jar();
		startFlow(cookies, false, 'oidc', oidc);
		expect(takeFlow(cookies, false, 'oidc', (f) => f.state === 'someone-elses')).toBeNull();
		expect(values.has(flowCookieName('oidc'))).toBe(true);
		expect(takeFlow(cookies, false, 'oidc', (f) => f.state === oidc.state)).not.toBeNull();
	});

	test('a dead cookie is cleared and reads as no flow', () => {
		const { cookies, values } = jar({ [flowCookieName('plex')]: 'v1.forged' });
		expect(takeFlow(cookies, false, 'plex', () => true)).toBeNull();
		expect(values.has(flowCookieName('plex'))).toBe(false);
	});
});
