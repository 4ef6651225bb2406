// Every input of the rule (ways-in.ts), read in one place: the sign-in settings, the account
// that is changing something (its password, Plex link, SSO link and passkeys), everyone's
// accounts folded into one (the login page does not know who is looking), and the environment.
// Every caller asks the rule through this module: the toggles, the SSO switch, linking and
// unlinking, the connection save and revert, passkey delete and switch, the login page, Plex
// and the settings preview. What counts is defined once, here:
//  - a password counts with a local username (the form asks for the username);
//  - an SSO link counts when it fits the saved mode and issuer (linked.ts);
//  - a passkey counts when it was made for `rpId`, the host of the current public origin: one
//    made under another host cannot sign in here.
//
// One query reads them all. A change of auth state asks for `lock`: the "AppSettings" row is
// then locked first, in a statement of its own, so that the read that follows (a new snapshot
// under READ COMMITTED) sees whatever the change that held the lock before committed. Read in
// the locking statement itself, the account's rows would come from the snapshot taken before
// the wait, and two tabs could combine two allowed changes into a lock-out.
import type postgres from 'postgres';
import { config } from '../config';
import { identityFits, isConfigured, type SsoMode, type StoredIdentity } from './linked';
import {
	fallbackFor,
	locksOut,
	offeredWays,
	waysInFor,
	type OfferedWays,
	type Reenable,
	type Way,
	type WaysAccount,
	type WaysEnvironment,
	type WaysSettings
} from './ways-in';

export type StoredSettings = {
	localAuthEnabled: boolean;
	plexLoginEnabled: boolean;
	passkeyLoginEnabled: boolean;
	ssoEnabled: boolean;
	ssoMode: SsoMode;
	oidcIssuer: string | null;
	oidcClientId: string | null;
};

export type StoredAccount = NonNullable<StoredIdentity> & {
	hasPassword: boolean;
	hasPlex: boolean;
	/** Passkeys made for the current RP ID. */
	passkeys: number;
};

export type RuleInputs = {
	settings: StoredSettings;
	/** The account asked about (null when none was named, or it does not exist). */
	account: StoredAccount | null;
	/** Every account folded into one, for what the login page offers. */
	everyone: {
		anyPassword: boolean;
		anyPlex: boolean;
		anyPasskey: boolean;
		/** The distinct (provider, issuer) pairs of the stored links. */
		links: { ssoProvider: string | null; ssoIssuer: string | null }[];
	};
	env: WaysEnvironment;
	/** Shown beside the rule's answer on the login page; no input of the rule. */
	page: { ssoButtonText: string; ssoAutoRedirect: boolean };
};

/** How every change the rule refuses comes back, wherever it is made. */
export type LockOutRefusal = { ok: false; reason: 'would-lock-out' };
export const WOULD_LOCK_OUT: LockOutRefusal = { ok: false, reason: 'would-lock-out' };

/** The inputs of the rule that do not come from the database. */
export function waysEnvironment(): WaysEnvironment {
	return { override: config.ssoDisableOverride, trustedProxies: config.trustedProxies.length > 0 };
}

type Db = postgres.Sql | postgres.TransactionSql;

/**
 * What counts as a password, over "User" as `u`: a hash and a local username (the form asks for
 * the username). Shared with the password sign-in's own statement (auth/password-attempt.ts).
 */
export const passwordCounts = (db: Db) =>
	db`u."passwordHash" is not null and u."localUsername" is not null`;

/**
 * Reads the rule's inputs. `userId` names the account asked about; `rpId` the host passkeys
 * must have been made for; `lock` (inside a transaction) locks the settings row first.
 */
export async function loadRuleInputs(
	db: Db,
	{ userId = null, rpId, lock = false }: { userId?: number | null; rpId: string; lock?: boolean }
): Promise<RuleInputs> {
	if (lock) await db`select 1 from "AppSettings" where id = 1 for update`;
	const [row] = await db<
		(StoredSettings &
			RuleInputs['page'] &
			RuleInputs['everyone'] & { account: StoredAccount | null })[]
	>`
		select s."localAuthEnabled", s."plexLoginEnabled", s."passkeyLoginEnabled", s."ssoEnabled",
			s."ssoMode", s."oidcIssuer", s."oidcClientId", s."ssoButtonText", s."ssoAutoRedirect",
			(select json_build_object(
					'hasPassword', ${passwordCounts(db)},
					'hasPlex', u."plexId" is not null,
					'ssoProvider', u."ssoProvider", 'ssoIssuer', u."ssoIssuer", 'ssoSubject', u."ssoSubject",
					'passkeys', (select count(*) from "Passkey" p where p."userId" = u.id and p."rpId" = ${rpId}))
				from "User" u where u.id = ${userId}::int) as account,
			exists (select 1 from "User" u where ${passwordCounts(db)}) as "anyPassword",
			exists (select 1 from "User" where "plexId" is not null) as "anyPlex",
			exists (select 1 from "Passkey" where "rpId" = ${rpId}) as "anyPasskey",
			coalesce((select jsonb_agg(distinct jsonb_build_object('ssoProvider', "ssoProvider",
					'ssoIssuer', "ssoIssuer"))
				from "User" where "ssoSubject" is not null), '[]') as links
		from "AppSettings" s where s.id = 1
	`;
	const { account, anyPassword, anyPlex, anyPasskey, links, ssoButtonText, ssoAutoRedirect } = row;
	return {
		settings: {
			localAuthEnabled: row.localAuthEnabled,
			plexLoginEnabled: row.plexLoginEnabled,
			passkeyLoginEnabled: row.passkeyLoginEnabled,
			ssoEnabled: row.ssoEnabled,
			ssoMode: row.ssoMode,
			oidcIssuer: row.oidcIssuer,
			oidcClientId: row.oidcClientId
		},
		account,
		everyone: { anyPassword, anyPlex, anyPasskey, links },
		env: waysEnvironment(),
		page: { ssoButtonText, ssoAutoRedirect }
	};
}

/** The settings in the rule's terms. */
export function ruleSettings(settings: StoredSettings): WaysSettings {
	return {
		localAuthEnabled: settings.localAuthEnabled,
		plexLoginEnabled: settings.plexLoginEnabled,
		passkeyLoginEnabled: settings.passkeyLoginEnabled,
		ssoEnabled: settings.ssoEnabled,
		ssoMode: settings.ssoMode,
		ssoConfigured: isConfigured(settings)
	};
}

/** The account in the rule's terms, under these settings. */
export function ruleAccount(settings: StoredSettings, account: StoredAccount): WaysAccount {
	return {
		hasPassword: account.hasPassword,
		hasPlex: account.hasPlex,
		ssoLinked: identityFits(account, settings.ssoMode, settings.oidcIssuer),
		passkeys: account.passkeys
	};
}

/** Everyone as one account, under these settings. */
export function everyoneAccount(inputs: RuleInputs): WaysAccount {
	const { settings, everyone } = inputs;
	return {
		hasPassword: everyone.anyPassword,
		hasPlex: everyone.anyPlex,
		// Each pair comes from a stored link; whose subject it is does not change whether it fits.
		ssoLinked: everyone.links.some((l) =>
			identityFits({ ...l, ssoSubject: 'linked' }, settings.ssoMode, settings.oidcIssuer)
		),
		passkeys: everyone.anyPasskey ? 1 : 0
	};
}

/** What a signed-out visitor is offered. */
export function offered(inputs: RuleInputs): OfferedWays {
	return offeredWays(ruleSettings(inputs.settings), [everyoneAccount(inputs)], inputs.env);
}

function named(inputs: RuleInputs): StoredAccount {
	if (!inputs.account) throw new Error('The rule was asked about an account that was not read');
	return inputs.account;
}

/** The ways that sign the account in right now. */
export function accountWays(inputs: RuleInputs): Way[] {
	const account = ruleAccount(inputs.settings, named(inputs));
	return waysInFor(ruleSettings(inputs.settings), account, inputs.env);
}

/** Would these inputs leave the account without a way in? (See ways-in.ts `locksOut`.) */
export function wouldLockOut(inputs: RuleInputs): boolean {
	const account = ruleAccount(inputs.settings, named(inputs));
	return locksOut(ruleSettings(inputs.settings), account, inputs.env);
}

/**
 * Switching SSO off (or losing its link) under these inputs: what to turn back on so that the
 * account keeps a way in, or null when nothing would.
 */
export function fallbackOnceSsoIsOff(inputs: RuleInputs): Reenable | null {
	const account = ruleAccount(inputs.settings, named(inputs));
	return fallbackFor(ruleSettings(inputs.settings), account, inputs.env);
}
