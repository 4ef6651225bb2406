// Where signing out goes after the app's session ended, besides this app's own login page.
//
// Forward auth: the authenticating proxy keeps a session of its own, and without its sign-out
// one click on "Sign in with SSO" signs the same person in again. With a "Proxy sign-out URL"
// saved, signing out of a forward-auth session sends the browser there (the proxy sends it back
// to the login page with `proxy=1`, which says the proxy was asked too).
//
// OpenID Connect RP-Initiated Logout: when the admin turned on "Also sign out at the identity
// provider", signing out of an OIDC session sends the browser on to the provider's
// end_session_endpoint, which ends the provider's session and sends it back to the login page.
//
// The session's ID token (sealed in "Session"."oidcIdToken") goes along as id_token_hint. The
// `state` is a fresh random value that nothing checks on return: the return address is a fixed
// page that only shows "You have been signed out.", so there is nothing to protect there.
import { encodeBase64urlNoPadding } from '@oslojs/encoding';
import { open } from '../crypto';
import { sql } from '../db';
import { log } from '../log';
import { sameIssuer } from '../rule/issuer';
import { oidcReady } from '../sso/availability';
import { getSsoConfig } from '../sso/config';
import type { Session } from './session';
import { proxySignOutUrl } from './sources/forward';
import { getDiscovery } from './sources/oidc-discovery';

/** Where signing out ends, on this app; also the page the provider sends the browser back to. */
export const SIGNED_OUT_PATH = '/login?signed_out=1';

/** Where signing out of a forward-auth session ends when no proxy sign-out address is saved. */
export const PROXY_NOT_ASKED_PATH = '/login?signed_out=1&proxy=0';

/** The post_logout_redirect_uri to register at the provider. */
export function postLogoutRedirectUri(origin: string) {
	return `${origin}${SIGNED_OUT_PATH}`;
}

/** The back-channel logout URI to register at the provider. */
export function backchannelLogoutUri(origin: string) {
	return `${origin}/api/auth/sso/oidc/backchannel-logout`;
}

/**
 * The provider's end-session URL for this session, or null when signing out stays on the app:
 * not an OIDC session, the setting off, another provider configured since, or no
 * end_session_endpoint in discovery. Read before the session row is deleted.
 */
export async function providerLogoutUrl(session: Session, origin: string): Promise<string | null> {
	if (session.method !== 'oidc' || !session.rpLogoutIssuer) return null;
	const sso = await getSsoConfig();
	if (!sso.oidcRpLogout || !oidcReady(sso)) return null;
	const [row] = await sql<{ oidcIdToken: string | null; oidcIssuer: string | null }[]>`
		select "oidcIdToken", "oidcIssuer" from "Session" where id = ${session.id}
	`;
	if (!row || !sameIssuer(row.oidcIssuer, sso.oidcIssuer)) return null;
	let endpoint: string | undefined;
	try {
		endpoint = (await getDiscovery(sso.oidcIssuer, sso.ssoConfigVersion)).end_session_endpoint;
	} catch (error) {
		log.warn('Signing out at the identity provider skipped: discovery failed', {
			reason: (error as Error).message
		});
		return null;
	}
	if (!endpoint) return null;
	const url = new URL(endpoint);
	const idToken = open(row.oidcIdToken);
	if (idToken) url.searchParams.set('id_token_hint', idToken);
	url.searchParams.set('client_id', sso.oidcClientId);
	url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri(origin));
	url.searchParams.set(
		'state',
		encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(16)))
	);
	return url.toString();
}

/**
 * Where signing out of a forward-auth session goes: the proxy's sign-out address, or the login
 * page saying that the proxy was not asked. Null for any other session, or when forward auth is no
 * longer the mode.
 */
export async function proxyLogoutUrl(session: Session, origin: string): Promise<string | null> {
	if (session.method !== 'forward-auth') return null;
	const sso = await getSsoConfig();
	if (sso.ssoMode !== 'FORWARD_AUTH') return null;
	return proxySignOutUrl(sso.forwardAuthLogoutUrl, origin) ?? PROXY_NOT_ASKED_PATH;
}
