// Who is on the other end, and under which public origin they reached us.
//
// Model: the direct TCP peer decides trust. Only when the peer is inside TRUSTED_PROXIES are
// X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host read; with the list empty, no proxy is
// trusted and those headers are ignored. The client address is found the way proxy-addr walks
// X-Forwarded-For: from the right, past trusted hops, to the first address we do not trust,
// so a client cannot prepend a fake one. ORIGIN, when set, wins over anything a request says.
//
// Assumption: adapter-node's ADDRESS_HEADER is left unset, so getClientAddress() is the socket's
// own peer address.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';
import { config } from './config';

export type ClientInfo = {
	/** The address of the direct TCP peer. */
	peer: string;
	/** Whether that peer is inside TRUSTED_PROXIES. */
	peerTrusted: boolean;
	/** The client's address: the peer, or what a trusted proxy says the client was. */
	ip: string;
	/** scheme://host[:port] the browser used to reach the app. */
	origin: string;
	/**
	 * Set when ORIGIN is set and the request shows the browser at another address: forms posted
	 * from here will be refused as cross-origin. Null otherwise, and always when they match.
	 */
	originMismatch: { seen: string; configured: string } | null;
};

// Compiled on first use: the list is read at run time, not when the build imports this module.
let trust: ((address: string, hop: number) => boolean) | null = null;
function trusted(address: string, hop: number) {
	return (trust ??= proxyaddr.compile(config.trustedProxies))(address, hop);
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client; show the short form. */
export function normaliseAddress(address: string): string {
	return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The part of a client address that names one client, for everything counted or keyed by address
 * (throttle keys, collapsed audit rows): an IPv4 address whole, an IPv6 address as its /64
 * ("2001:db8:1:2::/64"). A single host or home is usually handed a whole /64, so counting each
 * IPv6 address apart would give one client 2^64 fresh counters. Anything that is not an address
 * (it cannot come from resolveClient, but a caller may pass a placeholder) is returned as it is.
 */
export function addressPrefix(address: string): string {
	if (!ipaddr.isValid(address)) return address;
	const parsed = ipaddr.process(address);
	if (parsed.kind() === 'ipv4') return parsed.toString();
	const network = parsed.toByteArray().slice(0, 8).concat([0, 0, 0, 0, 0, 0, 0, 0]);
	return `${ipaddr.fromByteArray(network).toString()}/64`;
}

function firstValue(value: string | null): string | null {
	const first = value?.split(',')[0]?.trim();
	return first ? first : null;
}

/** A bare `host[:port]` with nothing else in it, lower-cased; null when it is anything else. */
export function parseForwardedHost(value: string | null): string | null {
	const host = firstValue(value)?.toLowerCase();
	if (!host || !/^[a-z0-9.\-[\]:]+$/.test(host)) return null;
	try {
		const url = new URL(`http://${host}`);
		return url.host === host || `${url.hostname}:80` === host ? host : null;
	} catch {
		return null;
	}
}

export function parseForwardedProto(value: string | null): 'http' | 'https' | null {
	const proto = firstValue(value)?.toLowerCase();
	return proto === 'http' || proto === 'https' ? proto : null;
}

function clientAddress(peer: string, forwardedFor: string | null): string {
	const hops = proxyaddr.all(
		{
			connection: { remoteAddress: peer },
			headers: { 'x-forwarded-for': forwardedFor ?? undefined }
		} as never,
		trusted
	);
	// Walk back past anything that is not an IP address (a proxy passing on garbage).
	for (let i = hops.length - 1; i >= 0; i--) {
		if (isIP(hops[i])) return normaliseAddress(hops[i]);
	}
	return normaliseAddress(peer);
}

export function resolveClient(peerAddress: string, headers: Headers, url: URL): ClientInfo {
	const peer = normaliseAddress(peerAddress);
	const peerTrusted = config.trustedProxies.length > 0 && trusted(peerAddress, 0);
	const ip = peerTrusted ? clientAddress(peerAddress, headers.get('x-forwarded-for')) : peer;

	const originMismatch = config.origin
		? compareWithOrigin(config.origin, peerTrusted, headers)
		: null;
	let origin = config.origin;
	if (!origin) {
		// The app itself speaks plain HTTP (TLS ends at a proxy), so without a trusted proxy saying
		// otherwise the scheme is http. (adapter-node's own guess, event.url, assumes https.)
		const proto = (peerTrusted && parseForwardedProto(headers.get('x-forwarded-proto'))) || 'http';
		const host = (peerTrusted && parseForwardedHost(headers.get('x-forwarded-host'))) || url.host;
		origin = `${proto}://${host}`;
	}
	return { peer, peerTrusted, ip, origin, originMismatch };
}

/**
 * Where the browser says it is, against ORIGIN. The host is the Host header (or a trusted proxy's
 * X-Forwarded-Host); the scheme is known only from a trusted proxy's X-Forwarded-Proto, so without
 * one only the hosts are compared: behind a TLS proxy that is not in TRUSTED_PROXIES the app sees
 * plain HTTP while the browser uses HTTPS, and that is no mismatch.
 */
export function compareWithOrigin(
	configured: string,
	peerTrusted: boolean,
	headers: Headers
): ClientInfo['originMismatch'] {
	const host =
		(peerTrusted && parseForwardedHost(headers.get('x-forwarded-host'))) ||
		parseForwardedHost(headers.get('host'));
	if (!host) return null;
	const proto = peerTrusted ? parseForwardedProto(headers.get('x-forwarded-proto')) : null;
	const want = new URL(configured);
	const sameHost = host === want.host;
	if (sameHost && (proto === null || `${proto}:` === want.protocol)) return null;
	const seenProto = proto ?? (sameHost ? want.protocol.slice(0, -1) : 'http');
	return { seen: `${seenProto}://${host}`, configured: want.origin };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-origin writes are refused: every non-safe request must carry an Origin header equal to
 * the public origin. Browsers always send Origin on POST, so same-origin forms pass with or
 * without JavaScript.
 */
export function isCrossOriginWrite(method: string, headers: Headers, origin: string): boolean {
	return !SAFE_METHODS.has(method) && headers.get('origin') !== origin;
}
