// Fetching from identity providers: redirects (at most three, never from https to http) and the
// per-issuer cache (bounded, one fetch in flight), against real local HTTP and HTTPS servers.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
	clearProviderCache,
	getDiscovery,
	MAX_CACHED_ISSUERS
} from '../../src/lib/server/auth/sources/oidc-discovery';
import { cappedFetch } from '../../src/lib/server/http';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let plain: http.Server;
let secure: https.Server;
let plainBase = '';
let secureBase = '';
const TLS_DIR = path.resolve('tests/helpers/tls');
const hits = new Map<string, number>();
let handler: Handler = () => {};

const listen = (server: http.Server | https.Server) =>
	new Promise<string>((resolve) =>
		server.listen(0, '127.0.0.1', () => resolve(String((server.address() as AddressInfo).port)))
	);

beforeAll(async () => {
	// A self-signed test certificate for 127.0.0.1 (tests/helpers/tls, made once with openssl and
	// valid for a century), trusted by this test process only.
	process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
	const route: Handler = (req, res) => {
		hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
		handler(req, res);
	};
	plain = http.createServer(route);
	secure = https.createServer(
		{
			key: readFileSync(path.join(TLS_DIR, '127.0.0.1-key.pem')),
			cert: readFileSync(path.join(TLS_DIR, '127.0.0.1-cert.pem'))
		},
		route
	);
	plainBase = `http://127.0.0.1:${await listen(plain)}`;
	secureBase = `https://127.0.0.1:${await listen(secure)}`;
});

afterAll(async () => {
	delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
	plain.closeAllConnections();
	secure.closeAllConnections();
	await new Promise((r) => plain.close(r));
	await new Promise((r) => secure.close(r));
});

beforeEach(() => {
	hits.clear();
	clearProviderCache();
});

function redirectsThenOk(redirects: Record<string, string>): Handler {
	return (req, res) => {
		const to = redirects[req.url ?? ''];
		if (to) {
			res.writeHead(302, { location: to });
			return res.end();
		}
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end('{"ok":true}');
	};
}

describe('redirects', () => {
	test('https to https is followed', async () => {
		handler = redirectsThenOk({ '/start': `${secureBase}/end` });
		const res = await cappedFetch(`${secureBase}/start`, {}, { maxRedirects: 3 });
		expect(await res.json()).toEqual({ ok: true });
		expect(hits.get('/end')).toBe(1);
	});

	test('https to plain http is refused, and the http address is never asked', async () => {
		handler = redirectsThenOk({ '/start': `${plainBase}/end` });
		await expect(cappedFetch(`${secureBase}/start`, {}, { maxRedirects: 3 })).rejects.toThrow(
			'to plain http refused'
		);
		expect(hits.get('/end')).toBeUndefined();
	});

	test('http to https is followed', async () => {
		handler = redirectsThenOk({ '/start': `${secureBase}/end` });
		const res = await cappedFetch(`${plainBase}/start`, {}, { maxRedirects: 3 });
		expect(res.status).toBe(200);
	});

	test('three redirects are followed, a fourth is refused', async () => {
		handler = redirectsThenOk({ '/1': '/2', '/2': '/3', '/3': '/4' });
		expect((await cappedFetch(`${plainBase}/1`, {}, { maxRedirects: 3 })).status).toBe(200);
		handler = redirectsThenOk({ '/1': '/2', '/2': '/3', '/3': '/4', '/4': '/5' });
		await expect(cappedFetch(`${plainBase}/1`, {}, { maxRedirects: 3 })).rejects.toThrow(
			'more than 3 redirects'
		);
		expect(hits.get('/5')).toBeUndefined();
	});

	test('without maxRedirects no redirect is followed', async () => {
		handler = redirectsThenOk({ '/start': '/end' });
		await expect(cappedFetch(`${plainBase}/start`)).rejects.toThrow();
		expect(hits.get('/end')).toBeUndefined();
	});
});

describe('the discovery cache', () => {
	const document = (issuer: string) => ({
		issuer,
		authorization_endpoint: `${issuer}/authorize`,
		token_endpoint: `${issuer}/token`,
		jwks_uri: `${issuer}/jwks`
	});

	beforeEach(() => {
		handler = (req, res) => {
			const issuer = plainBase + (req.url ?? '').replace('/.well-known/openid-configuration', '');
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify(document(issuer)));
		};
	});

	const wellKnown = (i: number) => `/issuer-${i}/.well-known/openid-configuration`;

	test(`keeps at most ${MAX_CACHED_ISSUERS} issuers, dropping the least recently used`, async () => {
		const count = MAX_CACHED_ISSUERS + 2;
		for (let i = 0; i < count; i++) await getDiscovery(`${plainBase}/issuer-${i}`, 1);
		// The newest ones are still cached ...
		await getDiscovery(`${plainBase}/issuer-${count - 1}`, 1);
		expect(hits.get(wellKnown(count - 1))).toBe(1);
		// ... the two oldest were dropped.
		await getDiscovery(`${plainBase}/issuer-0`, 1);
		expect(hits.get(wellKnown(0))).toBe(2);
	});

	test('one fetch serves every caller waiting at the same time', async () => {
		const docs = await Promise.all(
			Array.from({ length: 25 }, () => getDiscovery(`${plainBase}/issuer-x`, 1))
		);
		expect(new Set(docs).size).toBe(1);
		expect(hits.get('/issuer-x/.well-known/openid-configuration')).toBe(1);
	});

	test('a newer configuration version drops what was cached', async () => {
		await getDiscovery(`${plainBase}/issuer-v`, 1);
		await getDiscovery(`${plainBase}/issuer-v`, 1);
		await getDiscovery(`${plainBase}/issuer-v`, 2);
		await getDiscovery(`${plainBase}/issuer-v`, 2);
		expect(hits.get('/issuer-v/.well-known/openid-configuration')).toBe(2);
	});
});
