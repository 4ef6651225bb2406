// The guard that keeps an admin from locking themselves out: a change that would leave the user
// with no working way to sign in is refused. The decision is the one rule's
// (plain/ways-in.js: `locksOut`); this module adapts the settings actions' view of a user to it.
import { locksOut as ruleLocksOut, waysInFor, type Way } from '../plain/ways-in.js';

export type LoginState = {
	localAuthEnabled: boolean;
	hasPassword: boolean;
	plexLoginEnabled: boolean;
	hasPlex: boolean;
	/** SSO is on and not overridden. */
	ssoEnabled: boolean;
	/** An identity is linked for the current SSO mode (forward auth: and a proxy can name it). */
	ssoLinked: boolean;
	/** "Allow passkey sign-in" (absent: off). */
	passkeyLoginEnabled?: boolean;
	/** How many passkeys the user has registered (absent: none). */
	passkeys?: number;
};

export type Method = Way;

/** The state of one user under the current settings; SSO counts only when not overridden. */
export function loginStateOf(
	user: {
		hasPassword: boolean;
		plexId: string | null;
		ssoSubject: string | null;
		passkeys?: number;
	},
	settings: {
		localAuthEnabled: boolean;
		plexLoginEnabled: boolean;
		ssoEnabled: boolean;
		passkeyLoginEnabled?: boolean;
	},
	ssoOverridden: boolean
): LoginState {
	return {
		localAuthEnabled: settings.localAuthEnabled,
		hasPassword: user.hasPassword,
		plexLoginEnabled: settings.plexLoginEnabled,
		hasPlex: user.plexId !== null,
		ssoEnabled: settings.ssoEnabled && !ssoOverridden,
		ssoLinked: user.ssoSubject !== null,
		passkeyLoginEnabled: settings.passkeyLoginEnabled ?? false,
		passkeys: user.passkeys ?? 0
	};
}

/** The state in the rule's terms. The override is already folded into `ssoEnabled`. */
function ruleInputs(state: LoginState) {
	return [
		{
			localAuthEnabled: state.localAuthEnabled,
			plexLoginEnabled: state.plexLoginEnabled,
			ssoEnabled: state.ssoEnabled,
			ssoMode: 'OIDC' as const,
			ssoConfigured: true,
			passkeyLoginEnabled: state.passkeyLoginEnabled ?? false
		},
		{
			hasPassword: state.hasPassword,
			hasPlex: state.hasPlex,
			ssoLinked: state.ssoLinked,
			passkeys: state.passkeys ?? 0
		},
		{ override: false, trustedProxies: true }
	] as const;
}

export function workingMethods(state: LoginState): Method[] {
	return waysInFor(...ruleInputs(state));
}

/** Would `next` leave no way in? (Only refuses changes that remove the last one.) */
export function locksOut(next: LoginState): boolean {
	return ruleLocksOut(...ruleInputs(next));
}
