// Alerts, the pure parts: which events send which kind, what a channel form may hold (http(s)
// only, no credentials in the address, a topic that is a topic, a secret long enough), the request
// each channel sends, the webhook's signature, and the backoff between tries.
import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
	checkTarget,
	readChannelForm,
	requestFor,
	webhookSignature,
	type AlertMessage
} from '../../src/lib/server/alerts/channels';
import { alertKindOf } from '../../src/lib/server/alerts/events';
import { backoffMs } from '../../src/lib/server/alerts/sender';

const message: AlertMessage = {
	kind: 'new_browser',
	event: 'login.succeeded',
	title: 'Sign-in from a new browser',
	lines: ['Method: local'],
	account: 'Ada',
	address: '203.0.113.7',
	count: 2,
	firstAt: '2026-12-07T22:00:00.000Z',
	lastAt: '2026-12-07T22:01:00.000Z',
	test: false,
	link: null
};

const form = (fields: Partial<Record<string, string>>) => ({
	kind: '',
	name: '',
	url: '',
	topic: '',
	token: '',
	secret: '',
	...fields
});

describe('alerts', () => {
	test('events map to kinds; others send nothing', () => {
		expect(alertKindOf('login.throttled')).toBe('throttled');
		expect(alertKindOf('settings.credentials_throttled')).toBe('throttled');
		expect(alertKindOf('backup.restored')).toBe('restore');
		expect(alertKindOf('api_key.created')).toBe('api_key');
		expect(alertKindOf('settings.sso_enabled')).toBe('sign_in_change');
		expect(alertKindOf('totp.disabled')).toBe('sign_in_change');
		expect(alertKindOf('login.failed')).toBeNull();
		expect(alertKindOf('constructor')).toBeNull();
		expect(alertKindOf('__proto__')).toBeNull();
	});

	test('only http and https, without credentials; private addresses are fine', () => {
		for (const bad of [
			'javascript:alert(1)',
			'file:///etc/passwd',
			'ftp://10.0.0.1/',
			'data:text/plain,x',
			'gopher://x',
			'http://u:p@10.0.0.1/',
			'not a url',
			'',
			`http://x/${'a'.repeat(2000)}`
		])
			expect(checkTarget(bad, 'URL'), bad).toHaveProperty('problem');
		for (const good of ['http://192.168.1.20:8080', 'https://ntfy.sh', 'http://[fd00::1]/x'])
			expect(checkTarget(good, 'URL'), good).toHaveProperty('url');
	});

	test('channel forms', () => {
		expect(readChannelForm(form({ kind: 'sms' }))).toEqual({
			problems: { kind: 'Choose a kind of channel.' }
		});
		expect(
			readChannelForm(form({ kind: 'ntfy', url: 'http://10.0.0.2/', topic: 'a/b' }))
		).toHaveProperty('problems.topic');
		expect(
			readChannelForm(form({ kind: 'webhook', url: 'http://10.0.0.2/', secret: 'short' }))
		).toHaveProperty('problems.secret');
		expect(
			readChannelForm(form({ kind: 'ntfy', url: 'http://10.0.0.2/', topic: 'alerts' }))
		).toEqual({
			name: 'ntfy',
			settings: { kind: 'ntfy', server: 'http://10.0.0.2', topic: 'alerts', token: null }
		});
	});

	test('the webhook signs "<timestamp>.<body>" with HMAC-SHA256', () => {
		const { init } = requestFor(
			{ kind: 'webhook', url: 'http://10.0.0.3/h', secret: 's'.repeat(20) },
			message,
			1_765_000_000_000
		);
		const headers = init.headers as Record<string, string>;
		expect(headers['x-librariarr-timestamp']).toBe('1765000000');
		const expected = createHmac('sha256', 's'.repeat(20))
			.update(`1765000000.${init.body as string}`)
			.digest('hex');
		expect(headers['x-librariarr-signature']).toBe(`sha256=${expected}`);
		expect(webhookSignature('k', '1', 'b')).toBe(
			createHmac('sha256', 'k').update('1.b').digest('hex')
		);
		expect(JSON.parse(init.body as string)).toMatchObject({ count: 2, address: '203.0.113.7' });
	});

	test('ntfy: the topic in the path, the token as a bearer; Discord: no mentions', () => {
		const ntfy = requestFor(
			{ kind: 'ntfy', server: 'http://10.0.0.4', topic: 'x', token: 't' },
			message
		);
		expect(ntfy.url).toBe('http://10.0.0.4/x');
		expect((ntfy.init.headers as Record<string, string>).authorization).toBe('Bearer t');
		expect(ntfy.init.body).toContain('Happened 2 times');
		expect(ntfy.init.body).not.toContain('Not you?');
		const linked = requestFor(
			{ kind: 'ntfy', server: 'http://10.0.0.4', topic: 'x', token: null },
			{ ...message, link: 'https://app.example/not-me/abc' }
		);
		expect(linked.init.body).toContain('Not you? https://app.example/not-me/abc');
		const discord = requestFor(
			{ kind: 'discord', url: 'http://10.0.0.5/w' },
			{
				...message,
				account: '@everyone'
			}
		);
		expect(JSON.parse(discord.init.body as string).allowed_mentions).toEqual({ parse: [] });
	});

	test('backoff doubles from the base and stops at an hour', () => {
		expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 30_000))).toEqual([
			30_000, 60_000, 120_000, 240_000, 480_000
		]);
		expect(backoffMs(30, 30_000)).toBe(3_600_000);
	});
});
