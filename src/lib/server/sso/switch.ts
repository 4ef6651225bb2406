// The SSO enable switch (step 3): on only with an identity linked for the saved settings (and,
// for forward auth, the proof the caller passes in; with a "Required claim", the admin's own
// last claims satisfying it; with "Require two-factor", a second factor proven or enrolled); off turns another way in back on, or is
// refused when there is none.
import { config } from '../config';
import { sql } from '../db';
import {
	fallbackOnceSsoIsOff,
	loadRuleInputs,
	WOULD_LOCK_OUT,
	type LockOutRefusal
} from '../rule/inputs';
import { identityFits, isConfigured } from '../rule/linked';
import { NOTHING, type Reenable } from '../rule/ways-in';
import { getSsoConfig, type SsoConfig } from './config';
import { claimLockOut, ruleInForce, type ClaimLockOut } from './claim-rule';
import { mfaInForce, mfaLockOut, type MfaLockOut } from './mfa';

export type SsoSwitchRefusal =
	| { reason: 'override' | 'not-configured' | 'not-linked' }
	| Omit<LockOutRefusal, 'ok'>
	| { reason: 'proof'; message: string }
	| ClaimLockOut
	| MfaLockOut;

/**
 * Switches SSO sign-in on or off, in one transaction that locks the settings row and reads the
 * configuration and the user inside it, so that a change made in another tab meanwhile (a new
 * issuer, an unlink) is seen before deciding. Switching on needs an identity linked for the
 * current settings, and for forward auth the proof `forwardProof` gives (the request came through
 * a trusted proxy that named the linked user); switching off turns the password form or the Plex
 * button back on when neither works, or is refused when the user has neither. The two step 3
 * options (sign out at the provider too; send visitors straight to it) are saved with it.
 */
export async function setSsoEnabled(
	userId: number,
	{ enable, rpLogout, autoRedirect }: { enable: boolean; rpLogout: boolean; autoRedirect: boolean },
	forwardProof: (sso: SsoConfig, subject: string | null) => string | null,
	rpId: string
): Promise<
	{ ok: true; reenable: Reenable; ssoOnlyWay: boolean } | ({ ok: false } & SsoSwitchRefusal)
> {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		const sso = await getSsoConfig(tx);
		const user = inputs.account!;
		if (enable) {
			if (config.ssoDisableOverride) return { ok: false, reason: 'override' };
			if (!isConfigured(sso)) return { ok: false, reason: 'not-configured' };
			if (!identityFits(user, sso.ssoMode, sso.oidcIssuer))
				return { ok: false, reason: 'not-linked' };
			if (sso.ssoMode === 'FORWARD_AUTH' && !sso.ssoEnabled) {
				const refusal = forwardProof(sso, user.ssoSubject);
				if (refusal) return { ok: false, reason: 'proof', message: refusal };
			}
			// "Required claim": the admin's own last claims must satisfy it (claim-rule.ts).
			if (!sso.ssoEnabled) {
				const refusal = await claimLockOut(tx, { ...user, id: userId }, ruleInForce(sso));
				if (refusal) return { ok: false, ...refusal };
				// "Require two-factor for SSO sign-ins": a second factor proven or enrolled (mfa.ts).
				const noMfa = await mfaLockOut(tx, { ...user, id: userId }, mfaInForce(sso), rpId);
				if (noMfa) return { ok: false, ...noMfa };
			}
		}
		let reenable = NOTHING;
		if (!enable && sso.ssoEnabled) {
			const fallback = fallbackOnceSsoIsOff(inputs);
			if (!fallback) return WOULD_LOCK_OUT;
			reenable = fallback;
		}
		await tx`
			update "AppSettings" set "ssoEnabled" = ${enable}, "oidcRpLogout" = ${rpLogout},
				"ssoAutoRedirect" = ${autoRedirect},
				"localAuthEnabled" = "localAuthEnabled" or ${reenable.local},
				"plexLoginEnabled" = "plexLoginEnabled" or ${reenable.plex},
				"updatedAt" = now()
			where id = 1
		`;
		// Switched on with nothing else that would let the user in: the page warns.
		const ssoOnlyWay = enable && fallbackOnceSsoIsOff(inputs) === null;
		return { ok: true, reenable, ssoOnlyWay };
	});
}
