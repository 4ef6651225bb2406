// "What the server sees": how this very request looks from inside the app, and the proxy set-up
// mistakes that can be read off it, each with a one-line fix. The SSO problems self-hosters
// report most (a redirect URI with http instead of https, "invalid state" because the browser
// dropped a Secure cookie, forms refused as cross-site) nearly all come from here.
//
// A pure function: the caller passes what the `client` handle worked out (ClientInfo), the
// request's headers and the configuration; nothing is read from the environment or the
// database, so every branch is unit-tested. Header values are shown as received but cut to a
// bounded length; the page renders them as text.
import { normaliseAddress, parseForwardedHost, parseForwardedProto } from './client';
import type { ClientInfo } from './client';
import { redirectUri } from './auth/sources/oidc';

/** Forwarding headers shown as received (the app itself reads only the first three). */
export const FORWARDED_HEADERS = [
	'X-Forwarded-For',
	'X-Forwarded-Proto',
	'X-Forwarded-Host',
	'X-Forwarded-Port',
	'X-Forwarded-Ssl',
	'X-Real-IP',
	'Forwarded'
] as const;

const MAX_SHOWN = 300;

export type OriginSource = 'ORIGIN' | 'forwarded' | 'host';

export type Problem = { id: string; message: string; fix: string };

export type DiagnosticsInput = {
	client: ClientInfo;
	headers: Headers;
	/** The request's Host (event.url.host). */
	host: string;
	secureCookies: boolean;
	config: { origin: string | null; trustedProxies: string[]; cookieSecure: boolean };
	/** The configured identity header names, when SSO is set to forward auth. */
	forwardAuth: { user: string; email: string; name: string } | null;
};

export type Diagnostics = {
	peer: string;
	peerTrusted: boolean;
	clientAddress: string;
	forwarded: { name: string; value: string | null }[];
	origin: string;
	originSource: OriginSource;
	redirectUri: string;
	secureCookies: boolean;
	secureCookiesWhy: string;
	trustedProxies: string[];
	forwardAuth: {
		user: { name: string; value: string | null };
		others: { name: string; present: boolean }[];
	} | null;
	problems: Problem[];
};

function shown(value: string | null) {
	return value === null ? null : value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
}

/** Whether anything in the request says the browser is on https (even where it is not trusted). */
function httpsEvidence(headers: Headers, host: string): string | null {
	if (parseForwardedProto(headers.get('x-forwarded-proto')) === 'https') return 'X-Forwarded-Proto';
	if (/(^|[;,\s])proto=("?)https\2(\s*[;,]|$)/i.test(headers.get('forwarded') ?? ''))
		return 'Forwarded';
	if (headers.get('x-forwarded-ssl')?.trim().toLowerCase() === 'on') return 'X-Forwarded-Ssl';
	// The browser's own word: a same-site navigation or form carries the page's address.
	for (const name of ['origin', 'referer']) {
		const value = headers.get(name);
		if (!value) continue;
		try {
			const url = new URL(value);
			const hosts = [host, parseForwardedHost(headers.get('x-forwarded-host'))];
			if (url.protocol === 'https:' && hosts.includes(url.host)) {
				return name === 'origin' ? 'Origin' : 'Referer';
			}
		} catch {
			// not a URL: no evidence
		}
	}
	return null;
}

function originSource(input: DiagnosticsInput): OriginSource {
	if (input.config.origin) return 'ORIGIN';
	const { headers, client } = input;
	const forwarded =
		parseForwardedProto(headers.get('x-forwarded-proto')) ||
		parseForwardedHost(headers.get('x-forwarded-host'));
	return client.peerTrusted && forwarded ? 'forwarded' : 'host';
}

function trustedProxiesWith(list: string[], peer: string) {
	return `TRUSTED_PROXIES=${[...list, normaliseAddress(peer)].join(',')}`;
}

export function diagnose(input: DiagnosticsInput): Diagnostics {
	const { client, headers, config } = input;
	const problems: Problem[] = [];
	const forwarded = FORWARDED_HEADERS.map((name) => ({
		name,
		value: shown(headers.get(name))
	}));
	const anyForwarded = forwarded.some((h) => h.value !== null);
	const source = originSource(input);
	const appScheme = client.origin.startsWith('https:') ? 'https' : 'http';
	const evidence = httpsEvidence(headers, input.host);
	const addProxy = trustedProxiesWith(config.trustedProxies, client.peer);

	// What the browser appears to be using, read even from headers the app does not trust.
	// (Not from ORIGIN: that is what the app was told, not what the browser used.)
	const seenScheme = evidence ? 'https' : 'http';
	const seenHost = parseForwardedHost(headers.get('x-forwarded-host')) ?? input.host;
	const inUse = `${seenScheme}://${seenHost}`;

	let untrustedExplained = false;
	if (evidence && appScheme === 'http') {
		let fix: string;
		if (config.origin) {
			fix = `set ORIGIN=https://${new URL(config.origin).host}`;
		} else if (!client.peerTrusted) {
			fix = `add your proxy: ${addProxy}`;
			untrustedExplained = anyForwarded;
		} else {
			fix =
				'have the proxy send X-Forwarded-Proto (nginx: proxy_set_header X-Forwarded-Proto $scheme;)';
		}
		problems.push({
			id: 'https_unseen',
			message: `This page was reached over https (says ${evidence}), but Librariarr believes it is http: the OIDC redirect URI says http and cookies are not Secure.`,
			fix
		});
	}
	if (anyForwarded && !client.peerTrusted && !untrustedExplained) {
		problems.push({
			id: 'untrusted_forwarded',
			message: `Forwarding headers came from ${client.peer}, which is not in TRUSTED_PROXIES, so they were ignored.`,
			fix: `if ${client.peer} is your reverse proxy, add it: ${addProxy}; if not, find what adds these headers`
		});
	}
	if (config.origin && config.origin !== inUse) {
		problems.push({
			id: 'origin_mismatch',
			message: `ORIGIN is ${config.origin}, but this page was reached at ${inUse}: forms posted from here are refused as cross-site, and the OIDC redirect URI leads elsewhere.`,
			fix: `set ORIGIN=${inUse}, or open Librariarr at ${config.origin}`
		});
	}
	if (input.secureCookies && seenScheme === 'http') {
		problems.push({
			id: 'secure_cookie_over_http',
			message:
				'Cookies are marked Secure but this page is plain http: the browser drops them, so sign-ins fail (SSO says "invalid state").',
			fix: config.cookieSecure
				? 'reach Librariarr over https, or unset COOKIE_SECURE'
				: 'reach Librariarr over https, or set ORIGIN to its http address'
		});
	}

	let forwardAuth: Diagnostics['forwardAuth'] = null;
	if (input.forwardAuth) {
		const { user, email, name } = input.forwardAuth;
		const userValue = shown(headers.get(user));
		forwardAuth = {
			user: { name: user, value: userValue },
			others: [email, name].map((n) => ({ name: n, present: headers.has(n) }))
		};
		if (userValue === null) {
			problems.push({
				id: 'forward_user_missing',
				message: `SSO is set to forward auth, but this request has no ${user} header.`,
				fix: `make the proxy copy ${user} from the auth server's answer onto every request (nginx: auth_request_set and proxy_set_header; Caddy: copy_headers)`
			});
		} else if (!client.peerTrusted) {
			problems.push({
				id: 'forward_untrusted',
				message: `${user} arrived from ${client.peer}, which is not in TRUSTED_PROXIES, so no one is signed in by it.`,
				fix: `add your proxy: ${addProxy}`
			});
		}
	}

	return {
		peer: client.peer,
		peerTrusted: client.peerTrusted,
		clientAddress: client.ip,
		forwarded,
		origin: client.origin,
		originSource: source,
		redirectUri: redirectUri(client.origin),
		secureCookies: input.secureCookies,
		secureCookiesWhy: config.cookieSecure
			? 'COOKIE_SECURE is set'
			: input.secureCookies
				? 'the public origin is https'
				: 'the public origin is http and COOKIE_SECURE is not set',
		trustedProxies: config.trustedProxies,
		forwardAuth,
		problems
	};
}
