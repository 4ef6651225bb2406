// Whether single sign-on can be offered with the saved settings. The rule's own test
// (rule/linked.ts `isConfigured`) is the one definition; `oidcReady` is the same test for the
// places that go on to talk to an OIDC provider (the callback, the back-channel and RP-initiated
// sign-out, Verify & Link) and need the issuer and client ID narrowed to strings.
import { isConfigured, type SsoMode } from '../rule/linked';

export { isConfigured };

type Saved = { ssoMode: SsoMode; oidcIssuer: string | null; oidcClientId: string | null };

/** OIDC is the saved mode and it has an issuer and a client ID. */
export function oidcReady<T extends Saved>(
	sso: T
): sso is T & { ssoMode: 'OIDC'; oidcIssuer: string; oidcClientId: string } {
	return sso.ssoMode === 'OIDC' && isConfigured(sso);
}
