// Why a request to an identity provider failed, in words that say what to fix. Pure: it reads the
// error that fetch() (undici) or http.ts threw and names the cause; nothing here does I/O.
//
// undici rejects with a bare TypeError "fetch failed" and puts the reason in `cause`: a system
// error whose `code` says what happened (ECONNREFUSED, ENOTFOUND, a TLS code such as
// DEPTH_ZERO_SELF_SIGNED_CERT), sometimes an AggregateError of one per address tried. A deadline
// (AbortSignal.timeout) rejects with a DOMException named TimeoutError. http.ts keeps that error
// as the `cause` of its HttpError, with the URL it was fetching. Node's raw "fetch failed" is
// never part of a message.

export type ProviderFailure =
	| { kind: 'status'; url: string; status: number }
	| { kind: 'not-json'; url: string; status: number | null }
	| { kind: 'refused'; url: string; code: string }
	| { kind: 'unknown-host'; url: string; code: string }
	| { kind: 'tls'; url: string; code: string }
	| { kind: 'timeout'; url: string; seconds: number | null }
	| { kind: 'other'; url: string; detail: string };

const UNREACHABLE = new Set([
	'ECONNREFUSED',
	'ECONNRESET',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'EHOSTDOWN',
	'EADDRNOTAVAIL',
	'UND_ERR_SOCKET',
	'UND_ERR_CLOSED'
]);
const UNKNOWN_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
const TIMEOUT = new Set([
	'ETIMEDOUT',
	'UND_ERR_CONNECT_TIMEOUT',
	'UND_ERR_HEADERS_TIMEOUT',
	'UND_ERR_BODY_TIMEOUT'
]);
/** Certificate problems, by OpenSSL's and Node's codes. */
const TLS = new Set([
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'CERT_HAS_EXPIRED',
	'CERT_NOT_YET_VALID',
	'CERT_UNTRUSTED',
	'CERT_REVOKED',
	'ERR_TLS_CERT_ALTNAME_INVALID',
	'ERR_SSL_WRONG_VERSION_NUMBER'
]);

type Shape = {
	name?: unknown;
	code?: unknown;
	message?: unknown;
	status?: unknown;
	url?: unknown;
	timeoutMs?: unknown;
	cause?: unknown;
	errors?: unknown;
};

const shape = (value: unknown): Shape =>
	value !== null && typeof value === 'object' ? (value as Shape) : {};

/** The first system error code along the chain of causes (and inside an AggregateError). */
function codeOf(error: unknown, depth = 0): string | null {
	if (depth > 5) return null;
	const e = shape(error);
	if (typeof e.code === 'string' && e.code !== 'UND_ERR' && e.code !== 'ABORT_ERR') return e.code;
	if (Array.isArray(e.errors)) {
		for (const inner of e.errors) {
			const code = codeOf(inner, depth + 1);
			if (code) return code;
		}
	}
	return e.cause === undefined ? null : codeOf(e.cause, depth + 1);
}

function isTimeout(error: unknown, depth = 0): boolean {
	if (depth > 5) return false;
	const e = shape(error);
	if (e.name === 'TimeoutError') return true;
	return e.cause !== undefined && isTimeout(e.cause, depth + 1);
}

/**
 * What went wrong with a request to `url`. `error` is what was thrown: http.ts's HttpError (whose
 * `status`, `url`, `timeoutMs` and `cause` are read), or fetch()'s own rejection.
 */
export function classifyProviderFailure(error: unknown, url: string): ProviderFailure {
	const e = shape(error);
	const where = typeof e.url === 'string' ? e.url : url;
	const status = typeof e.status === 'number' ? e.status : null;
	const seconds = typeof e.timeoutMs === 'number' ? e.timeoutMs / 1000 : null;
	if (isTimeout(error)) return { kind: 'timeout', url: where, seconds };
	const code = codeOf(e.cause ?? error);
	if (code) {
		if (TLS.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))
			return { kind: 'tls', url: where, code };
		if (UNKNOWN_HOST.has(code)) return { kind: 'unknown-host', url: where, code };
		if (UNREACHABLE.has(code)) return { kind: 'refused', url: where, code };
		if (TIMEOUT.has(code)) return { kind: 'timeout', url: where, seconds };
	}
	if (
		e.name === 'SyntaxError' ||
		(typeof e.message === 'string' && /not valid JSON/.test(e.message))
	)
		return { kind: 'not-json', url: where, status };
	if (status !== null && (status < 200 || status > 299))
		return { kind: 'status', url: where, status };
	const message = typeof e.message === 'string' ? e.message : String(error);
	// undici's own words add nothing once the cause is known, and mean nothing when it is not.
	const detail = message === 'fetch failed' ? (code ?? 'no further detail') : message;
	return { kind: 'other', url: where, detail };
}

const hostOf = (url: string) => {
	try {
		return new URL(url).host;
	} catch {
		return url;
	}
};

/** Which fetch failed: the discovery document, or the signing keys its jwks_uri names. */
export type ProviderFetch = 'discovery' | 'keys';

const WHAT: Record<ProviderFetch, string> = {
	discovery: 'OIDC discovery',
	keys: 'Fetching the signing keys'
};

function statusHint(status: number, fetching: ProviderFetch): string {
	if (status === 404)
		return fetching === 'discovery'
			? 'Is this the issuer URL your provider shows, without /.well-known/openid-configuration at the end?'
			: 'The jwks_uri of the discovery document leads nowhere: check the provider’s configuration.';
	if (status === 401 || status === 403)
		return 'The provider must answer this without signing in: is a login page or an access rule in front of it?';
	if (status >= 500)
		return 'The provider had an error of its own: is it running and healthy? Try again in a moment.';
	return 'Is this the issuer URL your provider shows?';
}

function tlsHint(code: string, host: string): string {
	switch (code) {
		case 'CERT_HAS_EXPIRED':
			return `The TLS certificate of ${host} has expired: renew it at the provider (or its reverse proxy).`;
		case 'CERT_NOT_YET_VALID':
			return `The TLS certificate of ${host} is not valid yet: check the clocks of both machines.`;
		case 'ERR_TLS_CERT_ALTNAME_INVALID':
			return `The TLS certificate of ${host} is for another name: use the host name the certificate was issued for, or reissue it for ${host}.`;
		case 'DEPTH_ZERO_SELF_SIGNED_CERT':
		case 'SELF_SIGNED_CERT_IN_CHAIN':
			return `The TLS certificate of ${host} is self-signed, so it is not trusted. Give Librariarr the certificate (or your own CA's) with NODE_EXTRA_CA_CERTS=/path/to/ca.pem and restart it.`;
		case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
		case 'UNABLE_TO_GET_ISSUER_CERT':
		case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
		case 'CERT_UNTRUSTED':
			return `The TLS certificate of ${host} comes from a certificate authority Librariarr does not know (a private CA, or an incomplete chain). Give Librariarr that CA's certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.pem and restart it, or serve the full chain.`;
		default:
			return `The TLS connection to ${host} failed (${code}): is this an https address of a server that speaks TLS, with a certificate Librariarr trusts (NODE_EXTRA_CA_CERTS=/path/to/ca.pem)?`;
	}
}

/**
 * The message for a failed fetch. For an HTTP status it starts with "OIDC discovery failed
 * (<status>)", the words DESIGN.md fixes, then names the URL and gives a hint.
 */
export function describeProviderFailure(fetching: ProviderFetch, failure: ProviderFailure): string {
	const what = WHAT[fetching];
	const host = hostOf(failure.url);
	switch (failure.kind) {
		case 'status':
			return `${what} failed (${failure.status}): ${failure.url} answered ${failure.status}. ${statusHint(failure.status, fetching)}`;
		case 'not-json':
			return `${what} failed: ${failure.url} did not answer with JSON${failure.status ? ` (status ${failure.status})` : ''}. ${fetching === 'discovery' ? 'Is this the issuer URL, and not a web page or a login page in front of the provider?' : 'Is a web page or a login page in front of the provider?'}`;
		case 'refused':
			return `${what} failed: could not connect to ${host} (${failure.code}) for ${failure.url}. Is the provider running on that address and port, and can the Librariarr container reach that host?`;
		case 'unknown-host':
			return `${what} failed: the host name ${hostOf(failure.url).replace(/:\d+$/, '')} could not be resolved (${failure.code}) for ${failure.url}. Is it spelled right, and can the Librariarr container reach that host (its DNS, its Docker network)?`;
		case 'tls':
			return `${what} failed: ${failure.url}: ${tlsHint(failure.code, host)}`;
		case 'timeout':
			return `${what} failed: no answer from ${failure.url}${failure.seconds ? ` within ${failure.seconds} s` : ' in time'}. Is the provider up, and can the Librariarr container reach that host (a firewall or proxy dropping the connection)?`;
		case 'other':
			return `${what} failed: ${failure.url}: ${failure.detail}.`;
	}
}
