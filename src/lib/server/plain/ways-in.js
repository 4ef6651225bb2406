// The one rule for who can still sign in. Every guard (the lock-out check on each auth state
// change), the login page, the settings cards, the recovery CLI and the property test's oracle
// ask this module; nothing else decides it.
//
// It answers two questions from the settings, the accounts and the environment:
//  - which ways a signed-out visitor is offered (the login page), and
//  - which of them can really sign a given account in.
// A way that is offered is not always a way in: the SSO button is shown in the "probe" state
// (a configuration saved, nobody linked yet) but can only end in "not linked"; forward auth
// without a trusted proxy can never name anyone. Recovery codes are not a way in: they run out.
//
// Plain JavaScript with JSDoc types, no imports: scripts/reset-auth.js is copied alone into a
// container and keeps a copy of this function, which tests/unit/ways-in.test.ts checks against
// this one over every combination of inputs.

/** @typedef {'local' | 'plex' | 'sso' | 'passkey'} Way */
/** @typedef {'enabled' | 'probe' | 'off'} SsoOffer */

/**
 * @typedef {object} WaysSettings
 * @property {boolean} localAuthEnabled
 * @property {boolean} plexLoginEnabled
 * @property {boolean} ssoEnabled
 * @property {'OIDC' | 'FORWARD_AUTH'} ssoMode
 * @property {boolean} ssoConfigured  OIDC: issuer and client ID saved; forward auth: always.
 * @property {boolean} [passkeyLoginEnabled]
 */

/**
 * @typedef {object} WaysAccount
 * @property {boolean} hasPassword  a password hash and a local username
 * @property {boolean} hasPlex
 * @property {boolean} ssoLinked  linked for the current SSO mode (and, for OIDC, issuer)
 * @property {number} [passkeys]  passkeys made for the current RP ID (the host of the public
 *   origin): a passkey made under another host cannot sign in here and must not count
 */

/**
 * @typedef {object} WaysEnvironment
 * @property {boolean} override  SSO_DISABLE_OVERRIDE
 * @property {boolean} trustedProxies  TRUSTED_PROXIES names at least one proxy
 */

/**
 * What a signed-out visitor is offered. `accounts` is every user (the page does not know who is
 * looking): the password form needs someone with a password, the Plex button someone linked.
 * @param {WaysSettings} settings
 * @param {WaysAccount[]} accounts
 * @param {WaysEnvironment} env
 * @returns {{ local: boolean, plex: boolean, sso: SsoOffer, passkey: boolean }}
 */
export function offeredWays(settings, accounts, env) {
	/** @type {SsoOffer} */
	let sso = 'off';
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
 * The ways that can really sign `account` in right now.
 * @param {WaysSettings} settings
 * @param {WaysAccount} account
 * @param {WaysEnvironment} env
 * @param {WaysAccount[]} [accounts] every user (`account` among them), when there are others
 * @returns {Way[]}
 */
export function waysInFor(settings, account, env, accounts = [account]) {
	const offered = offeredWays(settings, accounts, env);
	/** @type {Way[]} */
	const ways = [];
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
 * @param {WaysSettings} settings
 * @param {WaysAccount} account
 * @param {WaysEnvironment} env
 * @param {WaysAccount[]} [accounts]
 */
export function locksOut(settings, account, env, accounts) {
	const lasting = { ...settings, ssoEnabled: settings.ssoEnabled && !env.override };
	return waysInFor(lasting, account, { ...env, override: false }, accounts).length === 0;
}
