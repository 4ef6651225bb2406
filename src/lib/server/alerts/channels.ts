// Where alerts go: ntfy, an Apprise API server, a Discord webhook, or a generic JSON webhook whose
// body is signed (README, "Alerts"). A channel's addresses, topic, token and signing secret are
// sealed together like the OIDC client secret (crypto.ts); only a summary (kind and host) is ever
// shown. Targets may be private addresses (ntfy on the LAN), but only http and https; every
// delivery has a deadline and a size cap on the answer, and no redirect is followed (http.ts).
import { createHmac } from 'node:crypto';
import { open, seal } from '../crypto';
import { sql } from '../db';
import { cappedFetch, HttpError } from '../http';

export const CHANNEL_KINDS = ['ntfy', 'apprise', 'discord', 'webhook'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];
export const isChannelKind = (value: string): value is ChannelKind =>
	(CHANNEL_KINDS as readonly string[]).includes(value);

export const CHANNEL_WORDS: Record<ChannelKind, string> = {
	ntfy: 'ntfy',
	apprise: 'Apprise API',
	discord: 'Discord webhook',
	webhook: 'JSON webhook (signed)'
};

export const MAX_CHANNELS = 10;
const MAX_URL = 2000;
const MAX_ANSWER = 300;

/** What a channel needs, sealed as one JSON value. */
export type ChannelSettings =
	| { kind: 'ntfy'; server: string; topic: string; token: string | null }
	| { kind: 'apprise'; url: string }
	| { kind: 'discord'; url: string }
	| { kind: 'webhook'; url: string; secret: string };

/** One message: what happened, to whom, from where, how many times. */
export type AlertMessage = {
	kind: string;
	event: string;
	title: string;
	lines: string[];
	account: string | null;
	address: string | null;
	count: number;
	firstAt: string;
	lastAt: string;
	test: boolean;
	/**
	 * A link to act on the alert, or null. Its place is kept for issue 31's "Not me" link (part 2,
	 * not built yet: new-browser and recovery-code alerts are to carry one); every channel already
	 * sends it when there is one.
	 */
	link: string | null;
};

const positive = (name: string, fallback: number) =>
	Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback;

/** The deadline of one delivery (ALERT_TIMEOUT_MS in tests). */
export const deliveryTimeoutMs = () => positive('ALERT_TIMEOUT_MS', 10_000);

/** An http(s) address without credentials in it, or the words that say what is wrong. */
export function checkTarget(text: string, label: string): { url: URL } | { problem: string } {
	const value = text.trim();
	if (!value) return { problem: `${label} is required.` };
	if (value.length > MAX_URL) return { problem: `${label} is longer than ${MAX_URL} characters.` };
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		return { problem: `${label} is not a web address (example: http://192.168.1.20:8080).` };
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:')
		return { problem: `${label} must start with http:// or https://.` };
	if (url.username || url.password)
		return { problem: `${label} must not hold a user name or password.` };
	return { url };
}

export type ChannelForm = {
	kind: string;
	name: string;
	url: string;
	topic: string;
	token: string;
	secret: string;
};

/** The form's fields as a channel's settings, or the problem of each field that is wrong. */
export function readChannelForm(
	form: ChannelForm
): { settings: ChannelSettings; name: string } | { problems: Record<string, string> } {
	const problems: Record<string, string> = {};
	const name = form.name.trim();
	if (!isChannelKind(form.kind)) return { problems: { kind: 'Choose a kind of channel.' } };
	if (name.length > 60) problems.name = 'The name is longer than 60 characters.';
	const target = checkTarget(form.url, form.kind === 'ntfy' ? 'Server URL' : 'URL');
	if ('problem' in target) problems.url = target.problem;
	let settings: ChannelSettings;
	const url = 'url' in target ? target.url.href : '';
	if (form.kind === 'ntfy') {
		const topic = form.topic.trim();
		if (!/^[A-Za-z0-9_-]{1,64}$/.test(topic))
			problems.topic = 'The topic is 1 to 64 letters, digits, "-" or "_".';
		const token = form.token.trim();
		if (token.length > 200) problems.token = 'The token is longer than 200 characters.';
		settings = { kind: 'ntfy', server: url.replace(/\/+$/, ''), topic, token: token || null };
	} else if (form.kind === 'webhook') {
		const secret = form.secret.trim();
		if (secret.length < 16 || secret.length > 200)
			problems.secret = 'The signing secret is 16 to 200 characters.';
		settings = { kind: 'webhook', url, secret };
	} else {
		settings = { kind: form.kind, url };
	}
	if (Object.keys(problems).length) return { problems };
	return { settings, name: name || CHANNEL_WORDS[settings.kind] };
}

/** What the page may show of a channel: its kind and host, never a path, topic or token. */
export function summaryOf(settings: ChannelSettings): string {
	const url = new URL(settings.kind === 'ntfy' ? settings.server : settings.url);
	return `${CHANNEL_WORDS[settings.kind]} at ${url.host}`;
}

export const sealSettings = (settings: ChannelSettings) => seal(JSON.stringify(settings));

/** The settings, or null when they no longer open (the instance key changed). */
export function openSettings(sealed: string): ChannelSettings | null {
	const text = open(sealed);
	if (!text) return null;
	try {
		return JSON.parse(text) as ChannelSettings;
	} catch {
		return null;
	}
}

/** The message as plain text (ntfy, Apprise, Discord). */
function plainText(message: AlertMessage) {
	const lines = [...message.lines];
	if (message.account) lines.push(`Account: ${message.account}`);
	if (message.address) lines.push(`Address: ${message.address}`);
	if (message.count > 1)
		lines.push(`Happened ${message.count} times, ${message.firstAt} to ${message.lastAt}.`);
	else lines.push(`At ${message.firstAt}.`);
	if (message.link) lines.push(`Not you? ${message.link}`);
	return lines.join('\n');
}

/** The webhook's signature: HMAC-SHA256 of "<timestamp>.<body>" under the secret, in hex. */
export function webhookSignature(secret: string, timestamp: string, body: string) {
	return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The request a channel sends for a message. */
export function requestFor(
	settings: ChannelSettings,
	message: AlertMessage,
	now = Date.now()
): { url: string; init: RequestInit } {
	const title = `Librariarr: ${message.title}`;
	const text = plainText(message);
	const json = (body: unknown, headers: Record<string, string> = {}) => ({
		method: 'POST',
		headers: { 'content-type': 'application/json', ...headers },
		body: JSON.stringify(body)
	});
	switch (settings.kind) {
		case 'ntfy':
			return {
				url: `${settings.server}/${encodeURIComponent(settings.topic)}`,
				init: {
					method: 'POST',
					headers: {
						'content-type': 'text/plain; charset=utf-8',
						// Header values must be ISO-8859-1: the title is sent RFC 2047-free, so ASCII only.
						title: title.replace(/[^\x20-\x7e]/g, '?'),
						tags: message.test ? 'test_tube' : 'warning',
						priority: message.test ? 'default' : 'high',
						...(settings.token ? { authorization: `Bearer ${settings.token}` } : {})
					},
					body: text
				}
			};
		case 'apprise':
			return {
				url: settings.url,
				init: json({ title, body: text, type: 'warning', format: 'text' })
			};
		case 'discord':
			return {
				url: settings.url,
				init: json({
					content: `**${title}**\n${text}`.slice(0, 2000),
					allowed_mentions: { parse: [] }
				})
			};
		case 'webhook': {
			const body = JSON.stringify({
				type: 'librariarr.alert',
				kind: message.kind,
				event: message.event,
				title: message.title,
				text,
				account: message.account,
				address: message.address,
				count: message.count,
				firstAt: message.firstAt,
				lastAt: message.lastAt,
				test: message.test,
				link: message.link
			});
			const timestamp = String(Math.floor(now / 1000));
			return {
				url: settings.url,
				init: {
					method: 'POST',
					headers: {
						'content-type': 'application/json',
						'x-librariarr-timestamp': timestamp,
						'x-librariarr-signature': `sha256=${webhookSignature(settings.secret, timestamp, body)}`
					},
					body
				}
			};
		}
	}
}

export type Delivery = { ok: boolean; answer: string };

/** Sends one message and says what came back: the status and the start of the answer. */
export async function deliver(settings: ChannelSettings, message: AlertMessage): Promise<Delivery> {
	const { url, init } = requestFor(settings, message);
	try {
		const res = await cappedFetch(url, init, {
			timeoutMs: deliveryTimeoutMs(),
			maxBytes: 64 * 1024,
			maxRedirects: 0
		});
		const body = (await res.text()).replace(/\s+/g, ' ').trim();
		const answer = `HTTP ${res.status}${body ? `: ${body}` : ''}`.slice(0, MAX_ANSWER);
		return { ok: res.ok, answer };
	} catch (error) {
		const cause = (error as Error).cause as Error | undefined;
		const why =
			error instanceof HttpError && cause?.cause instanceof Error
				? `${error.message} (${cause.cause.message})`
				: error instanceof HttpError && cause && cause.message !== 'fetch failed'
					? `${error.message} (${cause.message})`
					: (error as Error).message;
		return { ok: false, answer: why.slice(0, MAX_ANSWER) };
	}
}

export type ChannelRow = {
	id: number;
	kind: ChannelKind;
	name: string;
	summary: string;
	enabled: boolean;
	lastOutcome: 'sent' | 'failed' | null;
	lastAnswer: string | null;
	lastAt: Date | null;
};

export async function listChannels(): Promise<ChannelRow[]> {
	return sql<ChannelRow[]>`
		select id, kind, name, summary, enabled, "lastOutcome", "lastAnswer", "lastAt"
		from "AlertChannel" order by id
	`;
}

/** Adds a channel; false when there are MAX_CHANNELS already. */
export async function addChannel(name: string, settings: ChannelSettings): Promise<boolean> {
	const rows = await sql`
		insert into "AlertChannel" (kind, name, settings, summary)
		select ${settings.kind}, ${name}, ${sealSettings(settings)}, ${summaryOf(settings)}
		where (select count(*) from "AlertChannel") < ${MAX_CHANNELS}
		returning id
	`;
	return rows.length === 1;
}

export async function removeChannel(id: number): Promise<boolean> {
	const rows = await sql`delete from "AlertChannel" where id = ${id} returning id`;
	return rows.length === 1;
}

/** Records what a delivery got, for the page. */
export async function recordAnswer(id: number, delivery: Delivery) {
	await sql`
		update "AlertChannel" set "lastOutcome" = ${delivery.ok ? 'sent' : 'failed'},
			"lastAnswer" = ${delivery.answer}, "lastAt" = now()
		where id = ${id}
	`;
}

/** "Send test": a message sent now, not queued; the answer is shown and recorded. */
export async function sendTest(id: number): Promise<Delivery | null> {
	const [row] = await sql<{ settings: string }[]>`
		select settings from "AlertChannel" where id = ${id}`;
	if (!row) return null;
	const settings = openSettings(row.settings);
	if (!settings)
		return {
			ok: false,
			answer:
				'This channel’s settings no longer open (the secret key changed): remove it and add it again.'
		};
	const now = new Date().toISOString();
	const delivery = await deliver(settings, {
		kind: 'test',
		event: 'test',
		title: 'test message',
		lines: ['This is a test of this channel. Alerts will look like this.'],
		account: null,
		address: null,
		count: 1,
		firstAt: now,
		lastAt: now,
		test: true,
		link: null
	});
	await recordAnswer(id, delivery);
	return delivery;
}
