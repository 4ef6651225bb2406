// Every cause of a failed provider fetch gets a message that names the URL and says what to fix.
// The errors are built the way undici and http.ts build them: fetch() rejects with a TypeError
// "fetch failed" whose `cause` is a system error with a `code`; a deadline is a DOMException
// named TimeoutError; http.ts wraps either in an HttpError that keeps it as `cause`.
import { describe, expect, test } from 'vitest';
import {
	classifyProviderFailure,
	describeProviderFailure
} from '../../src/lib/server/auth/sources/provider-failure';
import { HttpError } from '../../src/lib/server/http';

const URL_ = 'https://auth.example.test/.well-known/openid-configuration';

function systemError(code: string, message: string) {
	return Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' });
}

/** What undici's fetch() rejects with, wrapped by http.ts's cappedFetch. */
function fetchFailed(cause: unknown) {
	const raw = new TypeError('fetch failed', { cause });
	return new HttpError('request to https://auth.example.test failed: fetch failed', null, {
		url: URL_,
		timeoutMs: 10_000,
		cause: raw
	});
}

const discovery = (error: unknown) =>
	describeProviderFailure('discovery', classifyProviderFailure(error, URL_));

describe('classifyProviderFailure', () => {
	test('an HTTP status', () => {
		expect(classifyProviderFailure(new HttpError('HTTP 404', 404, { url: URL_ }), URL_)).toEqual({
			kind: 'status',
			url: URL_,
			status: 404
		});
	});

	test.each([
		['ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.5:9000', 'refused'],
		['ECONNRESET', 'read ECONNRESET', 'refused'],
		['EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.5:443', 'refused'],
		['ENOTFOUND', 'getaddrinfo ENOTFOUND auth.example.test', 'unknown-host'],
		['EAI_AGAIN', 'getaddrinfo EAI_AGAIN auth.example.test', 'unknown-host'],
		['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 'tls'],
		['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain', 'tls'],
		['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate', 'tls'],
		['CERT_HAS_EXPIRED', 'certificate has expired', 'tls'],
		['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", 'tls'],
		['UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error', 'timeout']
	])('fetch failed with cause %s is "%s"', (code, message, kind) => {
		const failure = classifyProviderFailure(fetchFailed(systemError(code, message)), URL_);
		expect(failure).toMatchObject({ kind, url: URL_ });
	});

	test('an AggregateError of one refusal per address (happy eyeballs) is a refusal', () => {
		const cause = Object.assign(
			new AggregateError([
				systemError('ECONNREFUSED', 'connect ECONNREFUSED ::1:9000'),
				systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9000')
			]),
			{ code: 'ECONNREFUSED' }
		);
		expect(classifyProviderFailure(fetchFailed(cause), URL_)).toMatchObject({ kind: 'refused' });
		const bare = new AggregateError([systemError('ECONNREFUSED', 'connect ECONNREFUSED')]);
		expect(classifyProviderFailure(fetchFailed(bare), URL_)).toMatchObject({ kind: 'refused' });
	});

	test('a deadline (AbortSignal.timeout) is a timeout, with its length', () => {
		const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
		expect(classifyProviderFailure(fetchFailed(timeout), URL_)).toEqual({
			kind: 'timeout',
			url: URL_,
			seconds: 10
		});
		// fetch() itself, unwrapped
		expect(classifyProviderFailure(timeout, URL_)).toMatchObject({
			kind: 'timeout',
			seconds: null
		});
	});

	test('a body that is not JSON', () => {
		const error = new HttpError('response is not valid JSON', 200, { url: URL_ });
		expect(classifyProviderFailure(error, URL_)).toEqual({
			kind: 'not-json',
			url: URL_,
			status: 200
		});
	});

	test('anything else keeps its own words, never the bare "fetch failed"', () => {
		const redirects = new HttpError('more than 3 redirects from https://auth.example.test');
		expect(classifyProviderFailure(redirects, URL_)).toEqual({
			kind: 'other',
			url: URL_,
			detail: 'more than 3 redirects from https://auth.example.test'
		});
		const unexplained = classifyProviderFailure(new TypeError('fetch failed'), URL_);
		expect(unexplained).toMatchObject({ kind: 'other' });
		expect(describeProviderFailure('discovery', unexplained)).not.toContain('fetch failed');
	});
});

describe('describeProviderFailure', () => {
	test('a 404 keeps "OIDC discovery failed (404)" first, names the URL and asks about /.well-known', () => {
		const text = discovery(new HttpError('HTTP 404', 404, { url: URL_ }));
		expect(text.startsWith('OIDC discovery failed (404)')).toBe(true);
		expect(text).toContain(URL_);
		expect(text).toContain('without /.well-known/openid-configuration');
	});

	test('other statuses keep the status first too', () => {
		expect(discovery(new HttpError('HTTP 503', 503, { url: URL_ }))).toMatch(
			/^OIDC discovery failed \(503\): .*running/
		);
		expect(discovery(new HttpError('HTTP 403', 403, { url: URL_ }))).toMatch(
			/^OIDC discovery failed \(403\): .*without signing in/
		);
	});

	test('refused and unknown host ask whether the container can reach the host', () => {
		for (const [code, message] of [
			['ECONNREFUSED', 'connect ECONNREFUSED'],
			['ENOTFOUND', 'getaddrinfo ENOTFOUND auth.example.test'],
			['EAI_AGAIN', 'getaddrinfo EAI_AGAIN auth.example.test']
		]) {
			const text = discovery(fetchFailed(systemError(code, message)));
			expect(text).toContain(URL_);
			expect(text).toContain(code);
			expect(text).toContain('can the Librariarr container reach that host');
			expect(text).not.toContain('fetch failed');
		}
	});

	test('TLS failures say which and point at NODE_EXTRA_CA_CERTS where trust is the problem', () => {
		const tls = (code: string) => discovery(fetchFailed(systemError(code, 'tls')));
		expect(tls('DEPTH_ZERO_SELF_SIGNED_CERT')).toMatch(/self-signed.*NODE_EXTRA_CA_CERTS/);
		expect(tls('UNABLE_TO_GET_ISSUER_CERT_LOCALLY')).toMatch(
			/certificate authority.*NODE_EXTRA_CA_CERTS/
		);
		expect(tls('CERT_HAS_EXPIRED')).toContain('has expired');
		expect(tls('ERR_TLS_CERT_ALTNAME_INVALID')).toContain('for another name');
		for (const code of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED'])
			expect(tls(code)).toContain(URL_);
	});

	test('a timeout names the URL and the deadline', () => {
		const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
		expect(discovery(fetchFailed(timeout))).toMatch(
			/^OIDC discovery failed: no answer from https:\/\/auth\.example\.test\/\.well-known\/openid-configuration within 10 s\./
		);
	});

	test('a body that is not JSON', () => {
		const text = discovery(new HttpError('response is not valid JSON', 200, { url: URL_ }));
		expect(text).toContain(`${URL_} did not answer with JSON (status 200)`);
	});

	test('the signing keys: their own words, and a 404 blames the jwks_uri', () => {
		const text = describeProviderFailure('keys', {
			kind: 'status',
			url: 'https://auth.example.test/jwks',
			status: 404
		});
		expect(text).toMatch(
			/^Fetching the signing keys failed \(404\): https:\/\/auth\.example\.test\/jwks/
		);
		expect(text).toContain('jwks_uri');
	});
});
