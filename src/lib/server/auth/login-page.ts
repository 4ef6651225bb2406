// What the login page shows, seen from Settings → Authentication: the effective state of the
// local and Plex switches, the preview of the login card, what step 3 says SSO will leave, and
// the words on the SSO button.
//
// Nothing here decides anything: the login page's own inputs (rule/inputs.ts) go to the one rule
// through way-state.ts, so the preview cannot drift from what the login page really does.
import { sql } from '../db';
import {
	fallbackOnceSsoIsOff,
	loadRuleInputs,
	everyoneAccount,
	ruleSettings
} from '../rule/inputs';
import type { SsoOffer } from '../rule/ways-in';
import { waysOnceSsoIsOn } from '../sso/login';
import { effectiveStates } from './way-state';

export type LoginPreview = {
	local: boolean;
	plex: boolean;
	sso: SsoOffer;
	ssoButtonText: string;
	override: boolean;
};

/**
 * For the settings page of `userId` at `rpId`, in one query: the effective states, the preview,
 * what the login page offers once SSO is on, and whether anything but SSO would let the user in.
 */
export async function loginPageOverview(userId: number, rpId: string) {
	const inputs = await loadRuleInputs(sql, { userId, rpId });
	const { offered, local, plex } = effectiveStates(
		ruleSettings(inputs.settings),
		[everyoneAccount(inputs)],
		inputs.env
	);
	const preview: LoginPreview = {
		local: offered.local,
		plex: offered.plex,
		sso: offered.sso,
		ssoButtonText: inputs.page.ssoButtonText,
		override: inputs.env.override
	};
	return {
		local,
		plex,
		preview,
		onceSsoIsOn: waysOnceSsoIsOn(inputs),
		hasFallback: inputs.account !== null && fallbackOnceSsoIsOff(inputs) !== null
	};
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
