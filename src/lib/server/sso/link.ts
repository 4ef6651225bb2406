// Linking and unlinking the SSO identity of a user: manual (a pasted subject), from the
// forward-auth request, from the OIDC verify-and-link callback, and unlink.
//
// Each is one transaction that locks the "AppSettings" row first, then reads the SSO settings
// and the rule's inputs inside it (rule/inputs.ts) and asks the one rule before writing.
// So a change made meanwhile in another tab (an issuer saved, local sign-in switched off) is
// seen before deciding, and two changes that are each allowed cannot together leave the admin
// without a way in: the second waits for the first, then judges the state it left.
// Linking and unlinking end the user's other sessions, never the one making the change.
import type postgres from 'postgres';
import { sql } from '../db';
import { invalidateOtherSessions } from '../users';
import { getSsoConfig, type SsoConfig } from './config';
import {
	fallbackOnceSsoIsOff,
	loadRuleInputs,
	WOULD_LOCK_OUT,
	wouldLockOut,
	type LockOutRefusal,
	type RuleInputs,
	type StoredAccount
} from '../rule/inputs';
import { isMultiTenantIssuer } from '../rule/issuer';
import { FORWARD_AUTH_ISSUER } from '../rule/linked';
import type { Reenable } from '../rule/ways-in';

/** The identity a trusted proxy names in a request (auth/sources/forward.ts reads it). */
export type ForwardIdentity = { subject: string; email: string | null; displayName: string | null };

export type Identity = { provider: 'oidc' | 'forward-auth'; issuer: string; subject: string };

/** Where the identity to link comes from. */
export type LinkSource =
	/** A subject pasted into "Link Manually", for the current mode (and issuer). */
	| { via: 'manual'; subject: string }
	/** The identity the trusted proxy names in this request, read with the saved header names. */
	| {
			via: 'request';
			identify: (
				sso: SsoConfig
			) =>
				| { ok: true; identity: ForwardIdentity }
				| { ok: false; reason: 'untrusted_proxy' | 'missing_user_header' };
	  }
	/** An identity the provider has just verified (Verify & Link via OIDC). */
	| { via: 'verify'; issuer: string; subject: string };

export type LinkRefusal =
	| 'oidc-not-configured'
	| 'forward-not-configured'
	| 'multi-tenant'
	| 'untrusted_proxy'
	| 'missing_user_header'
	| 'taken'
	| LockOutRefusal['reason'];

type LockedState = { sso: SsoConfig; inputs: RuleInputs & { account: StoredAccount } };

/** The settings row (locked until the transaction ends), the SSO settings and the rule's inputs. */
async function lockedState(
	tx: postgres.TransactionSql,
	userId: number,
	rpId: string
): Promise<LockedState> {
	const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
	const sso = await getSsoConfig(tx);
	return { sso, inputs: inputs as LockedState['inputs'] };
}

/** The identity `source` names under the locked settings, or why it cannot be linked. */
function identityOf(
	sso: SsoConfig,
	source: LinkSource
): { ok: true; identity: Identity } | { ok: false; reason: LinkRefusal } {
	const forward = sso.ssoMode === 'FORWARD_AUTH';
	if (source.via === 'request') {
		// A forward-auth identity in OIDC mode would replace a working OIDC link with one that
		// SSO in this mode does not accept.
		if (!forward) return { ok: false, reason: 'forward-not-configured' };
		const result = source.identify(sso);
		if (!result.ok) return result;
		const { subject } = result.identity;
		return {
			ok: true,
			identity: { provider: 'forward-auth', issuer: FORWARD_AUTH_ISSUER, subject }
		};
	}
	if (source.via === 'verify') {
		if (forward || !sso.oidcIssuer) return { ok: false, reason: 'oidc-not-configured' };
		return {
			ok: true,
			identity: { provider: 'oidc', issuer: source.issuer, subject: source.subject }
		};
	}
	if (forward) {
		return {
			ok: true,
			identity: { provider: 'forward-auth', issuer: FORWARD_AUTH_ISSUER, subject: source.subject }
		};
	}
	if (!sso.oidcIssuer) return { ok: false, reason: 'oidc-not-configured' };
	// The link must record the tenant, which only the provider's token names.
	if (isMultiTenantIssuer(sso.oidcIssuer)) return { ok: false, reason: 'multi-tenant' };
	return {
		ok: true,
		identity: { provider: 'oidc', issuer: sso.oidcIssuer, subject: source.subject }
	};
}

/** The inputs with the account's link replaced (null: unlinked). */
function relinked(inputs: LockedState['inputs'], identity: Identity | null) {
	return {
		...inputs,
		account: {
			...inputs.account,
			ssoProvider: identity?.provider ?? null,
			ssoIssuer: identity?.issuer ?? null,
			ssoSubject: identity?.subject ?? null
		}
	};
}

/**
 * Links the identity `source` names to the user (replacing any link they had) and ends their
 * other sessions. Refused when the settings do not fit the source, when another account holds
 * the identity, or when SSO is the user's only way in and the new link would not work with it.
 */
export async function linkSsoIdentity(
	userId: number,
	currentSessionId: string,
	rpId: string,
	source: LinkSource
): Promise<{ ok: true; identity: Identity } | { ok: false; reason: LinkRefusal }> {
	try {
		return await sql.begin(async (tx) => {
			const state = await lockedState(tx, userId, rpId);
			const found = identityOf(state.sso, source);
			if (!found.ok) return found;
			const { identity } = found;
			if (wouldLockOut(relinked(state.inputs, identity))) return WOULD_LOCK_OUT;
			await tx`
				update "User" set "ssoProvider" = ${identity.provider}, "ssoIssuer" = ${identity.issuer},
					"ssoSubject" = ${identity.subject}, "ssoEnabled" = true, "updatedAt" = now()
				where id = ${userId}
			`;
			await invalidateOtherSessions(userId, currentSessionId, tx);
			return { ok: true, identity } as const;
		});
	} catch (error) {
		// The (issuer, subject) pair is unique: another account holds this identity.
		if ((error as { code?: string }).code === '23505') return { ok: false, reason: 'taken' };
		throw error;
	}
}

/**
 * Removes the user's SSO link, switches SSO off (turning the password form or the Plex button
 * back on when neither works) and ends their other sessions. Refused when nothing is linked, or
 * when the user would have no way in once SSO is off (no password, Plex link or passkey).
 */
export async function unlinkSsoIdentity(
	userId: number,
	currentSessionId: string,
	rpId: string
): Promise<
	{ ok: true; reenable: Reenable } | { ok: false; reason: 'not-linked' } | LockOutRefusal
> {
	return sql.begin(async (tx) => {
		const state = await lockedState(tx, userId, rpId);
		if (!state.inputs.account.ssoSubject) return { ok: false, reason: 'not-linked' } as const;
		const reenable = fallbackOnceSsoIsOff(relinked(state.inputs, null));
		if (!reenable) return WOULD_LOCK_OUT;
		await tx`
			update "User" set "ssoProvider" = null, "ssoIssuer" = null, "ssoSubject" = null,
				"ssoEnabled" = false, "updatedAt" = now()
			where id = ${userId}
		`;
		await tx`
			update "AppSettings" set "ssoEnabled" = false,
				"localAuthEnabled" = "localAuthEnabled" or ${reenable.local},
				"plexLoginEnabled" = "plexLoginEnabled" or ${reenable.plex},
				"updatedAt" = now()
			where id = 1
		`;
		await invalidateOtherSessions(userId, currentSessionId, tx);
		return { ok: true, reenable } as const;
	});
}
