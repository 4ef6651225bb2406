// The local and Plex switches as a signed-out visitor meets them, in words: "On — hidden on the
// login page while SSO is on". Pure. Whether a way is shown is the one rule's answer
// (rule/ways-in.ts `offeredWays`); the reason a switched-on way is hidden is the rule asked again
// with one input changed ("would it show if SSO were off?"), so the words cannot drift from it.
import {
	offeredWays,
	type WaysAccount,
	type WaysEnvironment,
	type WaysSettings
} from '../rule/ways-in';

export type WayState = {
	/** The stored switch. */
	stored: boolean;
	/** Whether the login page shows it now. */
	shown: boolean;
	/** The switch's state in words, e.g. "On — hidden on the login page while SSO is on". */
	text: string;
};

const SHOWN = 'shown on the login page';
const OVERRIDE = 'shown on the login page anyway while SSO_DISABLE_OVERRIDE is set';

function wayState(
	stored: boolean,
	shown: boolean,
	hiddenBecause: string,
	override: boolean
): WayState {
	let text: string;
	if (stored) text = shown ? `On — ${SHOWN}` : `On — hidden on the login page ${hiddenBecause}`;
	else text = shown && override ? `Off — ${OVERRIDE}` : 'Off — not on the login page';
	return { stored, shown, text };
}

/** The effective state of the local and Plex switches, and what the login page offers. */
export function effectiveStates(
	settings: WaysSettings,
	accounts: WaysAccount[],
	env: WaysEnvironment
) {
	const offered = offeredWays(settings, accounts, env);
	const withoutSso = offeredWays({ ...settings, ssoEnabled: false }, accounts, env);
	const localWhy = withoutSso.local ? 'while SSO is on' : 'until a password is set';
	return {
		offered,
		local: wayState(settings.localAuthEnabled, offered.local, localWhy, env.override),
		plex: wayState(
			settings.plexLoginEnabled,
			offered.plex,
			'until a Plex account is linked',
			env.override
		)
	};
}
