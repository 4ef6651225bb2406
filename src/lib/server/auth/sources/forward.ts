// Forward auth: an authenticating reverse proxy (Authelia, Authentik's outpost, oauth2-proxy…)
// signs the user in and passes their identity to us in request headers.
//
// Model: fail closed. The headers are believed only when the direct TCP peer is inside
// TRUSTED_PROXIES (the `client` handle decides that from the socket, never from a header); with
// the list empty nothing is believed. A value is taken exactly once: absent, empty, blank,
// repeated (Node joins repeated headers with ", "), comma-joined, containing a control
// character, or longer than 256 characters all count as "no identity". Only the configured name
// is read; look-alikes such as Remote_User are different headers and never match.
import type { ClientInfo } from '../../client';
import type { SsoConfig } from '../../sso/config';
import type { ForwardIdentity } from '../../sso/link';

export type { ForwardIdentity };

const MAX_LENGTH = 256;

/** The single, clean value of a header, or null. */
export function readIdentityHeader(headers: Headers, name: string): string | null {
	const raw = headers.get(name);
	if (raw === null || raw.includes(',')) return null;
	const value = raw.trim();
	if (!value || value.length > MAX_LENGTH || /[\u0000-\u001f\u007f]/.test(value)) return null;
	return value;
}

export type HeaderNames = { user: string; email: string; name: string };

/** The identity a trusted proxy sent with this request, or why there is none. */
export function forwardIdentity(
	client: ClientInfo,
	headers: Headers,
	names: HeaderNames
):
	| { ok: true; identity: ForwardIdentity }
	| { ok: false; reason: 'untrusted_proxy' | 'missing_user_header' } {
	if (!client.peerTrusted) return { ok: false, reason: 'untrusted_proxy' };
	const subject = readIdentityHeader(headers, names.user);
	if (!subject) return { ok: false, reason: 'missing_user_header' };
	return {
		ok: true,
		identity: {
			subject,
			email: readIdentityHeader(headers, names.email),
			displayName: readIdentityHeader(headers, names.name)
		}
	};
}

/** The TRUSTED_PROXIES line that would trust this peer, keeping what is already trusted. */
export function trustLineFor(peer: string, current: string[]): string {
	const entry = peer.includes(':') ? `${peer}/128` : `${peer}/32`;
	return `TRUSTED_PROXIES=${[...current, entry].join(',')}`;
}

/** Where the proxy sends the browser back after its own sign-out: the login page, saying so. */
export const PROXY_SIGNED_OUT_PATH = '/login?signed_out=1&proxy=1';

type Preset = HeaderNames & {
	label: string;
	/** The proxy's sign-out address for an app at `origin`, with the return address filled in. */
	signOut: (origin: string) => string;
};

const back = (origin: string) => encodeURIComponent(`${origin}${PROXY_SIGNED_OUT_PATH}`);

/**
 * Header-name and sign-out presets for the proxies the README documents. Authelia's portal has an
 * address of its own, which the preset can only guess: the form says to check it.
 */
export const PRESETS: Record<string, Preset> = {
	authelia: {
		label: 'Authelia',
		user: 'Remote-User',
		email: 'Remote-Email',
		name: 'Remote-Name',
		signOut: (origin) => `https://auth.example.com/logout?rd=${back(origin)}`
	},
	authentik: {
		label: 'Authentik outpost',
		user: 'X-authentik-username',
		email: 'X-authentik-email',
		name: 'X-authentik-name',
		signOut: () => '/outpost.goauthentik.io/sign_out'
	},
	oauth2proxy: {
		label: 'oauth2-proxy',
		user: 'X-Forwarded-Preferred-Username',
		email: 'X-Forwarded-Email',
		name: 'X-Forwarded-User',
		signOut: (origin) => `/oauth2/sign_out?rd=${back(origin)}`
	},
	modauthopenidc: {
		label: 'Apache mod_auth_openidc',
		user: 'Remote-User',
		email: 'Remote-Email',
		name: 'Remote-Name',
		// Its OIDCRedirectURI, with `logout=` and where to go after.
		signOut: (origin) => `/redirect_uri?logout=${back(origin)}`
	}
};

/**
 * Where signing out of a forward-auth session sends the browser after the app's session ended:
 * the configured proxy sign-out address (a path resolved against this app's address), or null.
 */
export function proxySignOutUrl(configured: string | null, origin: string): string | null {
	if (!configured) return null;
	return configured.startsWith('/') ? `${origin}${configured}` : configured;
}

/**
 * Forward-auth SSO is switched on only by a request that shows it will work: it came through a
 * trusted proxy (the TCP peer is in TRUSTED_PROXIES) and the proxy named, in the configured user
 * header, the identity linked to this admin. That is what Verify & Link proves for OIDC. Without
 * it (TRUSTED_PROXIES empty, the wrong header name, another user at the proxy) switching SSO on
 * would hide the password form while every SSO sign-in fails. Returns why not, or null.
 */
export function forwardEnableRefusal(
	client: ClientInfo,
	headers: Headers,
	sso: Pick<
		SsoConfig,
		'forwardAuthUserHeader' | 'forwardAuthEmailHeader' | 'forwardAuthNameHeader'
	>,
	linkedSubject: string | null
): string | null {
	const result = forwardIdentity(client, headers, {
		user: sso.forwardAuthUserHeader,
		email: sso.forwardAuthEmailHeader,
		name: sso.forwardAuthNameHeader
	});
	if (!result.ok && result.reason === 'untrusted_proxy') {
		return 'Forward-auth SSO can only be switched on through your authenticating proxy: this request did not come through a trusted proxy (TRUSTED_PROXIES), so nobody could sign in with SSO. Open this page through the proxy and try again.';
	}
	if (!result.ok) {
		return `Your proxy did not send a usable ${sso.forwardAuthUserHeader} header with this request, so SSO sign-in would fail. Check the User Header in step 1, then try again through the proxy.`;
	}
	if (result.identity.subject !== linkedSubject) {
		return `Your proxy names “${result.identity.subject}” in this request, but your account is linked to “${linkedSubject ?? ''}”. Link the identity of this request in step 2, then enable SSO.`;
	}
	return null;
}
