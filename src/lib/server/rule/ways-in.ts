// The one rule for who can still sign in. Every guard (the lock-out check on each auth state
// change), the login page, the settings cards, the recovery CLI and the property test's oracle
// ask this module; nothing else decides it. Its inputs are read in one place, inputs.ts.
//
// It answers two questions from the settings, the accounts and the environment:
//  - which ways a signed-out visitor is offered (the login page), and
//  - which of them can really sign a given account in.
// A way that is offered is not always a way in: the SSO button is shown in the "probe" state
// (a configuration saved, nobody linked yet) but can only end in "not linked"; forward auth
// without a trusted proxy can never name anyone. Recovery codes are not a way in: they run out.
//
// Pure and without imports: scripts/reset-auth.js is copied alone into a container and keeps a
// copy of `offeredWays`, which tests/unit/ways-in.test.ts checks against this one over every
// combination of inputs.

export type Way = 'local' | 'plex' | 'sso' | 'passkey';
export type SsoOffer = 'enabled' | 'probe' | 'off';

export type WaysSettings = {
	localAuthEnabled: boolean;
	plexLoginEnabled: boolean;
	ssoEnabled: boolean;
	ssoMode: 'OIDC' | 'FORWARD_AUTH';
	/** OIDC: issuer and client ID saved; forward auth: always. */
	ssoConfigured: boolean;
	passkeyLoginEnabled?: boolean;
};

export type WaysAccount = {
	/** A password hash and a local username (the form asks for the username). */
	hasPassword: boolean;
	hasPlex: boolean;
	/** Linked for the current SSO mode (and, for OIDC, issuer). */
	ssoLinked: boolean;
	/**
	 * Passkeys made for the current RP ID (the host of the public origin): a passkey made under
	 * another host cannot sign in here and must not count.
	 */
	passkeys?: number;
};

export type WaysEnvironment = {
	/** SSO_DISABLE_OVERRIDE */
	override: boolean;
	/** TRUSTED_PROXIES names at least one proxy. */
	trustedProxies: boolean;
};

export type OfferedWays = { local: boolean; plex: boolean; sso: SsoOffer; passkey: boolean };

/**
 * What a signed-out visitor is offered. `accounts` is every user (the page does not know who is
 * looking): the password form needs someone with a password, the Plex button someone linked.
 */
export function offeredWays(
	settings: WaysSettings,
	accounts: WaysAccount[],
	env: WaysEnvironment
): OfferedWays {
	let sso: SsoOffer = 'off';
	if (!env.override && settings.ssoConfigured) {
		if (settings.ssoEnabled) sso = 'enabled';
		else if (!accounts.some((a) => a.ssoLinked)) sso = 'probe';
	}
	return {
		// SSO replaces the password form; the override brings it back whatever the toggle says.
		local:
			(settings.localAuthEnabled || env.override) &&
			sso !== 'enabled' &&
			accounts.some((a) => a.hasPassword),
		// The Plex button stays beside "Sign in with SSO".
		plex: (settings.plexLoginEnabled || env.override) && accounts.some((a) => a.hasPlex),
		sso,
		passkey: Boolean(settings.passkeyLoginEnabled) && accounts.some((a) => (a.passkeys ?? 0) > 0)
	};
}

/**
 * The ways that can really sign `account` in right now. `accounts` is every user (`account`
 * among them), when there are others.
 */
export function waysInFor(
	settings: WaysSettings,
	account: WaysAccount,
	env: WaysEnvironment,
	accounts: WaysAccount[] = [account]
): Way[] {
	const offered = offeredWays(settings, accounts, env);
	const ways: Way[] = [];
	if (offered.local && account.hasPassword) ways.push('local');
	if (offered.plex && account.hasPlex) ways.push('plex');
	const ssoWorks =
		offered.sso === 'enabled' &&
		account.ssoLinked &&
		(settings.ssoMode !== 'FORWARD_AUTH' || env.trustedProxies);
	if (ssoWorks) ways.push('sso');
	if (offered.passkey && (account.passkeys ?? 0) > 0) ways.push('passkey');
	return ways;
}

/**
 * Would these settings leave `account` without a way in? Checked inside every change of auth
 * state. SSO_DISABLE_OVERRIDE is a temporary state, so the check looks past it: SSO counts for
 * nothing while the override is on (it is why the admin set it), and the local and Plex toggles
 * count as they are stored, not as the override bends them.
 */
export function locksOut(
	settings: WaysSettings,
	account: WaysAccount,
	env: WaysEnvironment,
	accounts?: WaysAccount[]
): boolean {
	const lasting = { ...settings, ssoEnabled: settings.ssoEnabled && !env.override };
	return waysInFor(lasting, account, { ...env, override: false }, accounts).length === 0;
}

/** What switching SSO off turns back on so that something else lets the user in. */
export type Reenable = { local: boolean; plex: boolean };
export const NOTHING: Reenable = { local: false, plex: false };

/**
 * When SSO is switched off (or its link goes), something else must let the user in. Says which
 * of the password form and the Plex button to turn back on (nothing, when a way in is left
 * already), or null when the user would have no way in whatever is turned on.
 */
export function fallbackFor(
	settings: WaysSettings,
	account: WaysAccount,
	env: WaysEnvironment,
	accounts?: WaysAccount[]
): Reenable | null {
	// Try, in order: nothing, the password form back, the Plex button back; the first that the
	// rule accepts once SSO is off wins.
	const candidates: Reenable[] = [
		NOTHING,
		{ local: true, plex: false },
		{ local: false, plex: true }
	];
	const off = { ...settings, ssoEnabled: false };
	return (
		candidates.find(
			(r) =>
				!locksOut(
					{
						...off,
						localAuthEnabled: off.localAuthEnabled || r.local,
						plexLoginEnabled: off.plexLoginEnabled || r.plex
					},
					account,
					env,
					accounts
				)
		) ?? null
	);
}
