// "Required claim" in force: when the rule applies, checking a sign-in or a Verify & Link against
// it, saving it, and the lock-out rule for turning it on. The reading and deciding is
// required-claim.ts (pure); the admin's own last claims are claims-seen.ts.
//
// Model: the rule applies to every OIDC sign-in and Verify & Link (a signed assertion from a
// proxy would be a second mode that calls ruleInForce and checkClaims the same way). Turning it
// on while SSO is on, or SSO on while it is set, is refused unless the admin's own claims from
// their last verified sign-in or Verify & Link, for the identity linked now, satisfy it: the
// admin must not lock themselves out of a sign-in that is their way in. Saving the rule is one
// transaction that holds the settings row lock, like every other auth state change.
import type postgres from 'postgres';
import { audit } from '../audit';
import { sql } from '../db';
import { log } from '../log';
import { loadRuleInputs } from '../rule/inputs';
import { claimsSeenFor, noteClaimsSeen } from './claims-seen';
import { getSsoConfig, type SsoConfig } from './config';
import {
	checkClaims,
	refusalWords,
	ruleSet,
	type ClaimVerdict,
	type RequiredClaim
} from './required-claim';

/** The rule the current mode applies, or null. */
export function ruleInForce(sso: Pick<SsoConfig, 'ssoMode' | 'requiredClaim'>) {
	return sso.ssoMode === 'OIDC' && ruleSet(sso.requiredClaim) ? sso.requiredClaim : null;
}

export type ClaimsCheck = { ok: true } | { ok: false; words: string };

/**
 * A verified OIDC identity of the linked user `userId` (a sign-in) or of the signed-in user
 * linking it (Verify & Link): keeps its claims as the user's last seen, then checks them against
 * the rule. A refusal is logged and audited with the claim and what it held.
 */
export async function checkIdentityClaims(
	sso: SsoConfig,
	userId: number,
	identity: { issuer: string; subject: string; claims: Record<string, unknown> },
	{ purpose, ip }: { purpose: 'sign-in' | 'link'; ip: string | null }
): Promise<ClaimsCheck> {
	await noteClaimsSeen(userId, identity, identity.claims);
	const verdict = checkClaims(ruleInForce(sso), identity.claims);
	if (verdict.ok) return verdict;
	const words = refusalWords(verdict);
	log.warn(
		purpose === 'link'
			? `OIDC verify-and-link refused by the required claim: ${words}`
			: `OIDC login refused by the required claim for sub=${printable(identity.subject)}: ${words}`
	);
	await audit({
		event: purpose === 'link' ? 'sso.link_failed' : 'login.failed',
		userId,
		method: 'oidc',
		ip,
		detail: { reason: 'claim_required', claim: verdict.claim, held: verdict.held, error: words }
	});
	return { ok: false, words };
}

function printable(value: string) {
	return value.replace(
		/[\u0000-\u001f\u007f]/g,
		(c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
	);
}

export type ClaimLockOut =
	{ reason: 'claims-unseen' } | { reason: 'claims-refused'; words: string; dropped: string[] };

/**
 * Why `rule` would lock the account out, judged on its own last claims for the identity it has
 * linked now; null when they satisfy it (or there is no rule).
 */
export async function claimLockOut(
	db: postgres.Sql | postgres.TransactionSql,
	account: { id: number; ssoIssuer: string | null; ssoSubject: string | null },
	rule: RequiredClaim | null
): Promise<ClaimLockOut | null> {
	if (!ruleSet(rule)) return null;
	const seen = await claimsSeenFor(db, account.id, account);
	if (!seen) return { reason: 'claims-unseen' };
	const verdict: ClaimVerdict = checkClaims(rule, seen.claims);
	if (verdict.ok) return null;
	return { reason: 'claims-refused', words: refusalWords(verdict), dropped: seen.dropped };
}

/**
 * Saves "Required claim" (an empty path: no rule). While SSO is on in a mode the rule applies
 * to, a rule the admin's own last claims do not satisfy is refused.
 */
export async function saveRequiredClaim(
	userId: number,
	rule: RequiredClaim,
	rpId: string
): Promise<{ ok: true; changed: boolean } | ({ ok: false } & ClaimLockOut)> {
	const next = ruleSet(rule) ? rule : { path: '', values: [] };
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		const sso = await getSsoConfig(tx);
		const same =
			sso.requiredClaim.path === next.path &&
			sso.requiredClaim.values.join('\n') === next.values.join('\n');
		if (same) return { ok: true, changed: false } as const;
		const applies = ruleInForce({ ssoMode: sso.ssoMode, requiredClaim: next });
		if (sso.ssoEnabled && applies) {
			const refusal = await claimLockOut(tx, { ...inputs.account!, id: userId }, applies);
			if (refusal) return { ok: false, ...refusal } as const;
		}
		await tx`
			update "AppSettings" set "ssoRequiredClaim" = ${next.path},
				"ssoRequiredClaimValues" = ${next.values}::text[], "updatedAt" = now()
			where id = 1
		`;
		return { ok: true, changed: true } as const;
	});
}
