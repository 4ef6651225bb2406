// What Test Discovery (and every discovery or key fetch) says when the provider cannot be used,
// against real local servers: a 404, a closed port, a self-signed TLS certificate, a server that
// never answers, a body that is not JSON. Each message names the URL and says what to fix, and
// Node's bare "fetch failed" never reaches the admin.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
	clearProviderCache,
	fetchDiscovery,
	getJwks,
	setProviderTimeoutForTests
} from '../../src/lib/server/auth/sources/oidc-discovery';
import { DEFAULT_TIMEOUT_MS } from '../../src/lib/server/http';

const TLS_DIR = path.resolve('tests/helpers/tls');
const servers: (http.Server | https.Server | net.Server)[] = [];
/** Sockets the silent server holds open, closed at the end. */
const held: net.Socket[] = [];

function listen(server: http.Server | https.Server | net.Server) {
	servers.push(server);
	return new Promise<number>((resolve) =>
		server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
	);
}

/** A port nothing listens on: bound once, then released. */
async function closedPort() {
	const probe = net.createServer();
	const port = await new Promise<number>((resolve) =>
		probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port))
	);
	await new Promise((resolve) => probe.close(resolve));
	return port;
}

/** Rejects with the message the admin would see. */
async function messageOf(promise: Promise<unknown>) {
	try {
		await promise;
	} catch (error) {
		return (error as Error).message;
	}
	throw new Error('expected a failure');
}

let plainBase = '';
let tlsBase = '';
let silentBase = '';

beforeAll(async () => {
	// Trust must come from the system (or NODE_EXTRA_CA_CERTS), never from this switch.
	expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
	const plain = http.createServer((req, res) => {
		if (req.url === '/html/.well-known/openid-configuration') {
			res.writeHead(200, { 'content-type': 'text/html' });
			return res.end('<html><body>Sign in</body></html>');
		}
		if (req.url === '/keys-missing/.well-known/openid-configuration') {
			res.writeHead(200, { 'content-type': 'application/json' });
			return res.end(
				JSON.stringify({
					issuer: `${plainBase}/keys-missing`,
					authorization_endpoint: `${plainBase}/authorize`,
					token_endpoint: `${plainBase}/token`,
					jwks_uri: `${plainBase}/no-such-jwks`
				})
			);
		}
		res.writeHead(404, { 'content-type': 'text/plain' });
		res.end('Not Found');
	});
	plainBase = `http://127.0.0.1:${await listen(plain)}`;

	const tls = https.createServer(
		{
			key: readFileSync(path.join(TLS_DIR, '127.0.0.1-key.pem')),
			cert: readFileSync(path.join(TLS_DIR, '127.0.0.1-cert.pem'))
		},
		(_req, res) => res.end('{}')
	);
	tlsBase = `https://127.0.0.1:${await listen(tls)}`;

	// Accepts the connection and never says a word.
	const silent = net.createServer((socket) => held.push(socket));
	silentBase = `http://127.0.0.1:${await listen(silent)}`;
});

afterAll(async () => {
	setProviderTimeoutForTests(DEFAULT_TIMEOUT_MS);
	for (const socket of held) socket.destroy();
	await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('Test Discovery against a provider that cannot be used', () => {
	test('a 404: the status first, the URL fetched, and the /.well-known hint', async () => {
		const text = await messageOf(fetchDiscovery(`${plainBase}/wrong-path`));
		expect(text).toMatch(/^OIDC discovery failed \(404\): /);
		expect(text).toContain(`${plainBase}/wrong-path/.well-known/openid-configuration`);
		expect(text).toContain('without /.well-known/openid-configuration');
	});

	test('a closed port: connection refused, and can the container reach that host', async () => {
		const port = await closedPort();
		const text = await messageOf(fetchDiscovery(`http://127.0.0.1:${port}`));
		expect(text).toContain(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
		expect(text).toContain('ECONNREFUSED');
		expect(text).toContain('can the Librariarr container reach that host');
		expect(text).not.toContain('fetch failed');
	});

	test('an unknown host name', async () => {
		// .invalid never resolves (RFC 6761); without any DNS the lookup fails as EAI_AGAIN.
		const text = await messageOf(fetchDiscovery('http://idp.librariarr.invalid'));
		expect(text).toMatch(/could not be resolved \((ENOTFOUND|EAI_AGAIN)\)/);
		expect(text).toContain('idp.librariarr.invalid');
		expect(text).not.toContain('fetch failed');
	});

	test('a self-signed certificate: not trusted, NODE_EXTRA_CA_CERTS', async () => {
		const text = await messageOf(fetchDiscovery(tlsBase));
		expect(text).toContain(`${tlsBase}/.well-known/openid-configuration`);
		expect(text).toContain('self-signed');
		expect(text).toContain('NODE_EXTRA_CA_CERTS');
		expect(text).not.toContain('fetch failed');
	});

	test('a server that never answers: a timeout naming the deadline', async () => {
		setProviderTimeoutForTests(500);
		try {
			const started = Date.now();
			const text = await messageOf(fetchDiscovery(silentBase));
			expect(Date.now() - started).toBeLessThan(5000);
			expect(text).toBe(
				`OIDC discovery failed: no answer from ${silentBase}/.well-known/openid-configuration within 0.5 s. Is the provider up, and can the Librariarr container reach that host (a firewall or proxy dropping the connection)?`
			);
		} finally {
			setProviderTimeoutForTests(DEFAULT_TIMEOUT_MS);
		}
	});

	test('a web page instead of JSON', async () => {
		const text = await messageOf(fetchDiscovery(`${plainBase}/html`));
		expect(text).toContain(`${plainBase}/html/.well-known/openid-configuration`);
		expect(text).toContain('did not answer with JSON (status 200)');
	});

	test('signing keys that are not there: the jwks_uri and its status', async () => {
		clearProviderCache();
		const keys = await getJwks(`${plainBase}/keys-missing`, 1);
		const lookUp = async () => keys({ alg: 'RS256', kid: 'k1' }, { payload: '', signature: '' });
		const text = await messageOf(lookUp());
		expect(text).toMatch(/^Fetching the signing keys failed \(404\): /);
		expect(text).toContain(`${plainBase}/no-such-jwks`);
	});
});
