// Where passkeys can work. Browsers refuse WebAuthn when the page's host is an IP address (the
// relying-party ID must be a domain; `localhost` is the one name allowed over plain http), so a
// server opened at 192.168.1.10 can neither add nor use a passkey. The settings page says so and
// disables "Add a passkey" there, instead of letting the browser fail with a bare "no passkey was
// created". (The server itself does not refuse: it cannot tell what the browser will allow, and
// the tests' software authenticator registers at 127.0.0.1.)
import ipaddr from 'ipaddr.js';

export type PasskeyHost =
	| { usable: true }
	| {
			usable: false;
			/** The address this page is open at. */
			host: string;
			/** An address with a host name that reaches this server, when one is known. */
			useInstead: string | null;
	  };

/**
 * Whether passkeys can work at `origin`. `configuredOrigin` is ORIGIN (or null): when it names a
 * host, that is the address to use instead; a loopback address can be swapped for `localhost`.
 */
export function passkeyHost(origin: string, configuredOrigin: string | null): PasskeyHost {
	const url = new URL(origin);
	const host = url.hostname.replace(/^\[|\]$/g, '');
	if (!ipaddr.isValid(host)) return { usable: true };
	let useInstead: string | null = null;
	const configured = configuredOrigin ? new URL(configuredOrigin) : null;
	if (configured && !ipaddr.isValid(configured.hostname.replace(/^\[|\]$/g, ''))) {
		useInstead = configured.origin;
	} else if (ipaddr.parse(host).range() === 'loopback') {
		url.hostname = 'localhost';
		useInstead = url.origin;
	}
	return { usable: false, host, useInstead };
}

/** What the page and the options endpoint say at an IP address. */
export function passkeyHostWords(where: Extract<PasskeyHost, { usable: false }>): string {
	const instead = where.useInstead
		? `Open Librariarr at ${where.useInstead} to add or use one.`
		: "Open Librariarr by a host name that points to this server (the NAS's name, or a name in your local DNS) to add or use one.";
	return `Browsers do not allow passkeys at an IP address, and this page is open at ${where.host}. ${instead}`;
}
