// "Require two-factor for SSO sign-ins" in force: when it applies, what an OIDC sign-in becomes
// under it, saving it, and the lock-out rule for turning it on. Whether the ID token proves MFA
// is mfa-proof.ts (pure).
//
// Model: with the setting on, an OIDC sign-in whose ID token proves a second factor, recently, is
// accepted at once; otherwise our own second step is asked (the authenticator code at
// /login/code, a passkey instead where the account has one and passkey sign-in is on), and when
// the account has neither, the sign-in is refused, logged and audited. A signed assertion from a
// proxy would be a second mode that calls mfaInForce and decideSignInMfa the same way.
// Turning the setting on while SSO is on, or SSO on while it is set, is refused unless the
// admin's own last verified sign-in named an accepted second factor, or the admin has one here:
// otherwise the admin would lock themselves out of a sign-in that is their way in. Saving is one
// transaction that holds the settings row lock, like every other auth state change.
import type postgres from 'postgres';
import { audit } from '../audit';
import { sql } from '../db';
import { log } from '../log';
import { loadRuleInputs } from '../rule/inputs';
import { claimsSeenFor } from './claims-seen';
import { getSsoConfig, type SsoConfig } from './config';
import { mfaMethodShown, mfaProof, noProofWords, type MfaSetting } from './mfa-proof';

/** The setting the current mode applies, or null. */
export function mfaInForce(sso: Pick<SsoConfig, 'ssoMode' | 'mfa'>): MfaSetting | null {
	return sso.ssoMode === 'OIDC' && sso.mfa.required ? sso.mfa : null;
}

/** The second factors `userId` can show here. */
export type SecondFactors = { totp: boolean; passkey: boolean; account: string };

/** What `userId` has enrolled: the authenticator app, and passkeys usable for sign-in at `rpId`. */
export async function secondFactorsOf(
	userId: number,
	rpId: string,
	db: postgres.Sql | postgres.TransactionSql = sql
): Promise<SecondFactors> {
	const [row] = await db<SecondFactors[]>`
		select u."totpSecret" is not null as totp,
			coalesce(u."localUsername", u.id::text) as account,
			(s."passkeyLoginEnabled" and exists (
				select 1 from "Passkey" p where p."userId" = u.id and p."rpId" = ${rpId})) as passkey
		from "User" u, "AppSettings" s where u.id = ${userId} and s.id = 1
	`;
	return row ?? { totp: false, passkey: false, account: String(userId) };
}

export type SignInMfa =
	| { kind: 'accept' }
	/** No proof, and a second factor here: the sign-in waits for it. */
	| { kind: 'second-step'; factors: SecondFactors }
	/** No proof, and no second factor here: refused (logged and audited already). */
	| { kind: 'refuse' };

/**
 * What an OIDC sign-in of the linked user `userId` becomes under the setting: `idTokenClaims` are
 * the ID token's own (userinfo proves nothing about how the person signed in).
 */
export async function decideSignInMfa(
	sso: SsoConfig,
	userId: number,
	identity: { subject: string; idTokenClaims: Record<string, unknown> },
	{ ip, rpId }: { ip: string | null; rpId: string }
): Promise<SignInMfa> {
	const setting = mfaInForce(sso);
	if (!setting) return { kind: 'accept' };
	const verdict = mfaProof(setting, identity.idTokenClaims, Date.now());
	if (verdict.proved) return { kind: 'accept' };
	const words = noProofWords(verdict);
	const factors = await secondFactorsOf(userId, rpId);
	if (factors.totp || factors.passkey) {
		log.info(`OIDC login needs the second step here: ${words}`, { userId, ip });
		return { kind: 'second-step', factors };
	}
	log.warn(
		`OIDC login refused: two-factor is required for SSO sign-ins, ${words}, and this account has no authenticator app or passkey here`,
		{ userId, ip }
	);
	await audit({
		event: 'login.failed',
		userId,
		method: 'oidc',
		ip,
		detail: { reason: 'mfa_required', why: verdict.reason, error: words }
	});
	return { kind: 'refuse' };
}

export type MfaLockOut = { reason: 'mfa-unproven' };

/**
 * Why `setting` would lock the account out: its last verified sign-in, for the identity linked
 * now, named no accepted second factor, and it has none here. Null when it would not (or no
 * setting applies). The age of that sign-in does not matter here: the next one is judged anew.
 */
export async function mfaLockOut(
	db: postgres.Sql | postgres.TransactionSql,
	account: { id: number; ssoIssuer: string | null; ssoSubject: string | null },
	setting: MfaSetting | null,
	rpId: string,
	/** Judge as if this factor were gone (turning it off, deleting the last passkey, asks this). */
	without: 'totp' | 'passkey' | null = null
): Promise<MfaLockOut | null> {
	if (!setting) return null;
	const factors = await secondFactorsOf(account.id, rpId, db);
	if ((factors.totp && without !== 'totp') || (factors.passkey && without !== 'passkey'))
		return null;
	const seen = await claimsSeenFor(db, account.id, account);
	if (seen && mfaMethodShown(setting, seen.claims)) return null;
	return { reason: 'mfa-unproven' };
}

/**
 * Whether losing `factor` (the authenticator app turned off, the last passkey here deleted) would
 * lock `userId` out of SSO sign-in: SSO on, the setting on, and nothing else to show (no other
 * factor here, no second factor in their last SSO sign-in). Read inside the caller's
 * transaction, which holds the settings row lock.
 */
export async function factorLossLocksOut(
	tx: postgres.TransactionSql,
	userId: number,
	rpId: string,
	factor: 'totp' | 'passkey'
): Promise<boolean> {
	const sso = await getSsoConfig(tx);
	if (!sso.ssoEnabled) return false;
	const [account] = await tx<{ ssoIssuer: string | null; ssoSubject: string | null }[]>`
		select "ssoIssuer", "ssoSubject" from "User" where id = ${userId}
	`;
	if (!account?.ssoSubject) return false;
	const refusal = await mfaLockOut(tx, { ...account, id: userId }, mfaInForce(sso), rpId, factor);
	return refusal !== null;
}

/**
 * Saves "Require two-factor for SSO sign-ins". While SSO is on in a mode it applies to, turning
 * it on (or changing what counts) is refused when it would lock the admin out.
 */
export async function saveMfaSetting(
	userId: number,
	next: MfaSetting,
	rpId: string
): Promise<{ ok: true; changed: boolean } | ({ ok: false } & MfaLockOut)> {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		const sso = await getSsoConfig(tx);
		const now = sso.mfa;
		const same =
			now.required === next.required &&
			now.maxAgeMinutes === next.maxAgeMinutes &&
			now.amr.join('\n') === next.amr.join('\n') &&
			now.acr.join('\n') === next.acr.join('\n');
		if (same) return { ok: true, changed: false } as const;
		const applies = mfaInForce({ ssoMode: sso.ssoMode, mfa: next });
		if (sso.ssoEnabled && applies) {
			const refusal = await mfaLockOut(tx, { ...inputs.account!, id: userId }, applies, rpId);
			if (refusal) return { ok: false, ...refusal } as const;
		}
		await tx`
			update "AppSettings" set "ssoMfaRequired" = ${next.required},
				"ssoMfaAmr" = ${next.amr}::text[], "ssoMfaAcr" = ${next.acr}::text[],
				"ssoMfaMaxAgeMinutes" = ${next.maxAgeMinutes}, "updatedAt" = now()
			where id = 1
		`;
		return { ok: true, changed: true } as const;
	});
}
