// Throttle keys as Settings → Security shows them. A key is `<kind>:<scope>:<what>` (see
// throttle.ts): "password:pair:203.0.113.9:admin" reads as "Password · address and username ·
// 203.0.113.9 and admin". A device key names a browser by its known-device id, which the page does
// not show; keys of any other shape are shown as they are.
import { isIP } from 'node:net';

export type ThrottleKeyView = { check: string; scope: string; target: string };

const CHECKS: Record<string, string> = {
	password: 'Password',
	'current-password': 'Current password (settings)',
	totp: 'Authenticator code',
	'recovery-code': 'Recovery code',
	passkey: 'Passkey sign-in',
	'api-key': 'API key'
};

/** An address as keys hold it (client.ts, addressPrefix): an IPv4 address or an IPv6 /64. */
function isAddressKey(text: string) {
	return isIP(text) !== 0 || (text.endsWith('/64') && isIP(text.slice(0, -3)) === 6);
}

/** "<address>:<account>", where the address itself may hold colons (IPv6). */
function splitPair(rest: string): [string, string] | null {
	for (let i = rest.length - 1; i > 0; i--) {
		if (rest[i] === ':' && isAddressKey(rest.slice(0, i)) && i < rest.length - 1) {
			return [rest.slice(0, i), rest.slice(i + 1)];
		}
	}
	return null;
}

export function describeThrottleKey(key: string, kind: string): ThrottleKeyView {
	const check = CHECKS[kind] ?? kind;
	const match = /^([a-z-]+):(address|pair|account|known|device):(.+)$/.exec(key);
	if (!match || match[1] !== kind) return { check, scope: 'Other', target: key };
	const [, , scope, rest] = match;
	if (scope === 'address') return { check, scope: 'Address', target: rest };
	if (scope === 'account') return { check, scope: 'Username', target: rest };
	if (scope === 'known') return { check, scope: 'Known browsers at an address', target: rest };
	if (scope === 'device') {
		return { check, scope: 'Known browser', target: 'a browser that signed in before' };
	}
	const pair = splitPair(rest);
	return pair
		? { check, scope: 'Address and username', target: `${pair[0]} and ${pair[1]}` }
		: { check, scope: 'Address and username', target: rest };
}
