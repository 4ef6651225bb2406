// Real local HTTP receivers standing in for the services alerts are sent to: ntfy (a POST of the
// text to /<topic>, Title/Tags/Priority headers, an optional bearer token), the Apprise API
// (POST /notify/<key> with JSON title, body, type), a Discord webhook (POST JSON content; 204),
// and a generic webhook that checks the body's HMAC-SHA256 signature the way the README says a
// receiver should. Each records what it got; `delayMs` makes it slow, `failFirst` fails that many,
// `redirectTo` answers every request with a redirect there.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Received = {
	at: number;
	answeredAt: number | null;
	method: string;
	path: string;
	headers: http.IncomingHttpHeaders;
	body: string;
	signatureOk?: boolean;
};

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

export async function startReceiver(
	shape: 'ntfy' | 'apprise' | 'discord' | 'webhook',
	options: { secret?: string; delayMs?: number; failFirst?: number; redirectTo?: string } = {}
) {
	const received: Received[] = [];
	let failuresLeft = options.failFirst ?? 0;
	const state = { delayMs: options.delayMs ?? 0 };
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks).toString('utf8');
			const entry: Received = {
				at: Date.now(),
				answeredAt: null,
				method: req.method ?? '',
				path: req.url ?? '',
				headers: req.headers,
				body
			};
			received.push(entry);
			setTimeout(() => {
				entry.answeredAt = Date.now();
				if (options.redirectTo) {
					res.writeHead(307, { location: options.redirectTo }).end();
					return;
				}
				if (failuresLeft > 0) {
					failuresLeft--;
					res.writeHead(503, { 'content-type': 'text/plain' }).end('try later');
					return;
				}
				answer(shape, entry, options.secret, res);
			}, state.delayMs);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	return {
		url: `http://127.0.0.1:${port}`,
		received,
		state,
		stop: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}

/** What each service answers to a well-formed request, and refuses otherwise. */
function answer(
	shape: string,
	entry: Received,
	secret: string | undefined,
	res: http.ServerResponse
) {
	const bad = (why: string) => res.writeHead(400, { 'content-type': 'text/plain' }).end(why);
	if (entry.method !== 'POST') return bad('POST only');
	if (shape === 'ntfy') {
		const topic = entry.path.slice(1);
		if (!/^[A-Za-z0-9_-]{1,64}$/.test(topic)) return bad('bad topic');
		res
			.writeHead(200, { 'content-type': 'application/json' })
			.end(JSON.stringify({ id: 'x1', event: 'message', topic, message: entry.body }));
		return;
	}
	let json: Record<string, unknown>;
	try {
		json = JSON.parse(entry.body);
	} catch {
		return bad('not JSON');
	}
	if (shape === 'apprise') {
		if (!entry.path.startsWith('/notify/') || typeof json.body !== 'string')
			return bad('body is required');
		res.writeHead(200, { 'content-type': 'text/plain' }).end('Notification(s) sent.');
	} else if (shape === 'discord') {
		if (typeof json.content !== 'string' || json.content.length > 2000)
			return bad('{"message": "Cannot send an empty message", "code": 50006}');
		res.writeHead(204).end();
	} else {
		const timestamp = String(entry.headers['x-librariarr-timestamp'] ?? '');
		const signature = String(entry.headers['x-librariarr-signature'] ?? '');
		const expected = `sha256=${createHmac('sha256', secret ?? '')
			.update(`${timestamp}.${entry.body}`)
			.digest('hex')}`;
		const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
		entry.signatureOk =
			fresh &&
			signature.length === expected.length &&
			timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
		if (!entry.signatureOk) return res.writeHead(401).end('bad signature');
		res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
	}
}
