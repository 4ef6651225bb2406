// What the login page shows, seen from Settings → Authentication: the effective state of the
// local and Plex switches, the preview of the login card, and the words on the SSO button.
//
// Nothing here decides anything: the login page's own inputs (sso-login.ts) go to the one rule
// through way-state.ts, so the preview cannot drift from what the login page really does.
import { sql } from '../db';
import type { SsoOffer } from '../plain/ways-in.js';
import { loginPageInputs } from './sso-login';
import { effectiveStates } from './way-state';

export type LoginPreview = {
	local: boolean;
	plex: boolean;
	sso: SsoOffer;
	ssoButtonText: string;
	override: boolean;
};

/** The effective states and the preview, from the same inputs the login page reads. */
export async function loginPageOverview() {
	const { settings, env, rule, accounts } = await loginPageInputs();
	const { offered, local, plex } = effectiveStates(rule, accounts, env);
	const preview: LoginPreview = {
		local: offered.local,
		plex: offered.plex,
		sso: offered.sso,
		ssoButtonText: settings.ssoButtonText,
		override: env.override
	};
	return { local, plex, preview };
}

/**
 * Saves the SSO button's words (already checked by `ssoButtonTextSchema`). Like every settings
 * change, in one transaction that holds the settings row; the words change no way in, so the
 * rule has nothing to refuse.
 */
export async function setSsoButtonText(text: string): Promise<void> {
	await sql.begin(async (tx) => {
		await tx`select 1 from "AppSettings" where id = 1 for update`;
		await tx`
			update "AppSettings" set "ssoButtonText" = ${text}, "updatedAt" = now() where id = 1
		`;
	});
}
