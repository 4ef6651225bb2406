// The single sign-on configuration in "AppSettings": reading it (with the client secret opened),
// saving step 1 with its one-step undo snapshot, reverting, and the enable switch.
import type { ClientInfo } from './auth/client';
import { forwardIdentity } from './auth/sources/forward';
import type postgres from 'postgres';
import { config } from './config';
import { sql } from './db';
import { open, seal } from './crypto';
import { log } from './log';
import type { ClientAuthVariant } from './auth/sources/oidc-client-auth';
import { observedFrom, type Observed } from './sso-observed';
import { algorithmAccepted } from './auth/sources/oidc-algorithms';
import {
	fallbackOnceSsoIsOff,
	loadRuleInputs,
	WOULD_LOCK_OUT,
	type LockOutRefusal
} from './rule/inputs';
import { identityFits, isConfigured, type SsoMode } from './rule/linked';
import { NOTHING, type Reenable } from './rule/ways-in';

export type { Reenable, SsoMode };
export {
	FORWARD_AUTH_ISSUER,
	identityFits,
	isMultiTenantIssuer,
	issuerCovers,
	sameIssuer
} from './rule/linked';

/** 'auto' lets the provider's discovery document decide; the others force one method. */
export const CLIENT_AUTH_SETTINGS = [
	'auto',
	'client_secret_basic',
	'client_secret_post',
	'none'
] as const;
export type ClientAuthSetting = (typeof CLIENT_AUTH_SETTINGS)[number];

/** The connection settings of step 1, as stored (secret sealed). */
type Connection = {
	oidcIssuer: string | null;
	oidcClientId: string | null;
	oidcClientSecret: string | null;
	oidcClientAuthMethod: ClientAuthSetting;
	oidcScopes: string;
	oidcUsernameClaim: string;
	forwardAuthUserHeader: string;
	forwardAuthEmailHeader: string;
	forwardAuthNameHeader: string;
	/** Forward auth: the proxy's sign-out address ("Proxy sign-out URL"), or null. */
	forwardAuthLogoutUrl: string | null;
};

const CONNECTION_KEYS = [
	'oidcIssuer',
	'oidcClientId',
	'oidcClientSecret',
	'oidcClientAuthMethod',
	'oidcScopes',
	'oidcUsernameClaim',
	'forwardAuthUserHeader',
	'forwardAuthEmailHeader',
	'forwardAuthNameHeader',
	'forwardAuthLogoutUrl'
] as const satisfies readonly (keyof Connection)[];

export type SsoConfig = Omit<Connection, 'oidcClientSecret'> & {
	ssoEnabled: boolean;
	ssoMode: SsoMode;
	/** The client secret in clear, or null when none is set or it no longer decrypts. */
	clientSecret: string | null;
	/** A secret is stored but cannot be opened with the current key. */
	clientSecretUnreadable: boolean;
	hasPrevious: boolean;
	ssoConfigVersion: number;
	/** "Also sign out at the identity provider" (RP-initiated logout). */
	oidcRpLogout: boolean;
	/** "Send visitors straight to the identity provider". */
	ssoAutoRedirect: boolean;
	/**
	 * The client-authentication variant negotiation learnt for this issuer and client id (tried
	 * first), or null when nothing was learnt for them.
	 */
	clientAuthLearnt: ClientAuthVariant | null;
	/** What the provider was seen to send for this issuer and client id (sso-observed.ts). */
	observed: Observed;
};

/** The sealed secret last reported as unreadable, so that the warning is logged once. */
let reportedUnreadable: string | null = null;

export async function getSsoConfig(
	db: postgres.Sql | postgres.TransactionSql = sql
): Promise<SsoConfig> {
	const [row] = await db`
		select "ssoEnabled", "ssoMode", "oidcIssuer", "oidcClientId", "oidcClientSecret",
			"oidcClientAuthMethod", "oidcScopes", "oidcUsernameClaim", "forwardAuthUserHeader", "forwardAuthEmailHeader", "forwardAuthNameHeader",
			"forwardAuthLogoutUrl", "previousSsoConfig" is not null as "hasPrevious", "ssoConfigVersion", "oidcRpLogout",
			"ssoAutoRedirect", "oidcClientAuthLearnt", "oidcClientAuthLearntIssuer",
			"oidcClientAuthLearntClientId", "oidcSeenIssuer", "oidcSeenClientId", "oidcSeenIdTokenAlg",
			"oidcSeenUsernameClaim", "oidcSeenUsernameClaimFrom"
		from "AppSettings" where id = 1
	`;
	const clientSecret = open(row.oidcClientSecret);
	const clientSecretUnreadable = row.oidcClientSecret !== null && clientSecret === null;
	if (clientSecretUnreadable && reportedUnreadable !== row.oidcClientSecret) {
		// Once per stored value, not on every page that reads the configuration.
		reportedUnreadable = row.oidcClientSecret;
		log.warn(
			'The stored OIDC client secret cannot be decrypted (was SECRET_KEY or secret.key changed?); treating it as not set'
		);
	}
	const {
		oidcClientSecret: _sealed,
		oidcClientAuthLearnt: learnt,
		oidcClientAuthLearntIssuer: learntIssuer,
		oidcClientAuthLearntClientId: learntClientId,
		oidcSeenIssuer,
		oidcSeenClientId,
		oidcSeenIdTokenAlg,
		oidcSeenUsernameClaim,
		oidcSeenUsernameClaimFrom,
		...rest
	} = row;
	// Learnt for another issuer or client id (a direct database edit, a restore): not this one's.
	const learntFits = learntIssuer === row.oidcIssuer && learntClientId === row.oidcClientId;
	return {
		...(rest as Omit<
			SsoConfig,
			'clientSecret' | 'clientSecretUnreadable' | 'clientAuthLearnt' | 'observed'
		>),
		clientSecret,
		clientSecretUnreadable,
		clientAuthLearnt: learnt && learntFits ? learnt : null,
		observed: observedFrom(
			row.oidcIssuer,
			row.oidcClientId,
			{
				oidcSeenIssuer,
				oidcSeenClientId,
				oidcSeenIdTokenAlg,
				oidcSeenUsernameClaim,
				oidcSeenUsernameClaimFrom
			},
			algorithmAccepted
		)
	};
}

/** What saving forgets the learnt client-authentication variant for. */
const CLIENT_AUTH_KEYS: readonly string[] = [
	'oidcIssuer',
	'oidcClientId',
	'oidcClientSecret',
	'oidcClientAuthMethod'
];

/** What saving forgets the provider's observed behaviour for (sso-observed.ts). */
const OBSERVED_KEYS: readonly string[] = ['oidcIssuer', 'oidcClientId'];

/**
 * Remembers the client-authentication variant the token endpoint accepted, so that the next
 * sign-in tries it first. One UPDATE, and only while the settings it was learnt with are still
 * the saved ones (the configuration version has not moved on).
 */
export async function rememberClientAuth(
	learnt: { issuer: string; clientId: string; ssoConfigVersion: number },
	variant: Exclude<ClientAuthVariant, 'none'>
) {
	await sql`
		update "AppSettings" set "oidcClientAuthLearnt" = ${variant},
			"oidcClientAuthLearntIssuer" = ${learnt.issuer},
			"oidcClientAuthLearntClientId" = ${learnt.clientId}
		where id = 1 and "ssoConfigVersion" = ${learnt.ssoConfigVersion}
			and "oidcIssuer" = ${learnt.issuer} and "oidcClientId" = ${learnt.clientId}
	`;
}

export type ConnectionInput = {
	ssoMode: SsoMode;
	oidcIssuer: string | null;
	oidcClientId: string | null;
	/** undefined keeps the stored secret; null clears it; a string replaces it. */
	clientSecret: string | null | undefined;
	oidcClientAuthMethod: ClientAuthSetting;
	oidcScopes: string;
	oidcUsernameClaim: string;
	forwardAuthUserHeader: string;
	forwardAuthEmailHeader: string;
	forwardAuthNameHeader: string;
	forwardAuthLogoutUrl: string | null;
};

/**
 * Saves step 1. When any connection setting changed, the previous ones become the snapshot that
 * "Revert to Previous" restores, and the configuration version moves on (every instance drops its
 * cached discovery document). If SSO was on and the linked identity no longer fits the new mode
 * or issuer, SSO is switched off: it would otherwise hide the other methods behind a dead button.
 */
/** `rpId`: the current host; only passkeys made for it count as a way in (toggles.ts). */
export async function saveConnection(input: ConnectionInput, userId: number, rpId: string) {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		const [current] = await tx`select * from "AppSettings" where id = 1`;
		const next: Connection = {
			oidcIssuer: input.oidcIssuer,
			oidcClientId: input.oidcClientId,
			oidcClientSecret:
				input.clientSecret === undefined
					? current.oidcClientSecret
					: input.clientSecret === null
						? null
						: seal(input.clientSecret),
			oidcClientAuthMethod: input.oidcClientAuthMethod,
			oidcScopes: input.oidcScopes,
			oidcUsernameClaim: input.oidcUsernameClaim,
			forwardAuthUserHeader: input.forwardAuthUserHeader,
			forwardAuthEmailHeader: input.forwardAuthEmailHeader,
			forwardAuthNameHeader: input.forwardAuthNameHeader,
			forwardAuthLogoutUrl: input.forwardAuthLogoutUrl
		};
		const changed = CONNECTION_KEYS.filter(
			(k) =>
				current[k] !== next[k] && !(k === 'oidcClientSecret' && input.clientSecret === undefined)
		) as string[];
		const modeChanged = current.ssoMode !== input.ssoMode;
		if (!changed.length && !modeChanged)
			return { ok: true, changed: [], ssoSwitchedOff: false, reenabled: NOTHING } as const;

		const snapshot = changed.length
			? Object.fromEntries(CONNECTION_KEYS.map((k) => [k, current[k]]))
			: null;
		const stillLinked = identityFits(inputs.account!, input.ssoMode, input.oidcIssuer);
		const ssoSwitchedOff = current.ssoEnabled && !stillLinked;
		const reenable = ssoSwitchedOff ? fallbackOnceSsoIsOff(inputs) : NOTHING;
		if (!reenable) return WOULD_LOCK_OUT;
		await tx`
			update "AppSettings" set
				"ssoMode" = ${input.ssoMode},
				${tx(next, ...CONNECTION_KEYS)},
				"previousSsoConfig" = ${snapshot ? tx.json(snapshot) : tx`"previousSsoConfig"`},
				"ssoEnabled" = ${ssoSwitchedOff ? false : current.ssoEnabled},
				"localAuthEnabled" = "localAuthEnabled" or ${reenable.local},
				"plexLoginEnabled" = "plexLoginEnabled" or ${reenable.plex},
				"ssoConfigVersion" = "ssoConfigVersion" + 1,
				${changed.some((k) => CLIENT_AUTH_KEYS.includes(k)) ? tx`"oidcClientAuthLearnt" = null,` : tx``}
				${changed.some((k) => OBSERVED_KEYS.includes(k)) ? tx`"oidcSeenIssuer" = null, "oidcSeenClientId" = null, "oidcSeenIdTokenAlg" = null, "oidcSeenUsernameClaim" = null, "oidcSeenUsernameClaimFrom" = null,` : tx``}
				"updatedAt" = now()
			where id = 1
		`;
		return {
			ok: true,
			changed: modeChanged ? [...changed, 'ssoMode'] : changed,
			ssoSwitchedOff,
			reenabled: reenable
		};
	});
}

/**
 * Restores the snapshot, forces SSO off, moves the configuration version on, clears the snapshot.
 * Refused when there is no snapshot, or when SSO is on and the user would have no other way in.
 */
export async function revertConnection(
	userId: number,
	rpId: string
): Promise<
	{ ok: true; reenable: Reenable } | { ok: false; reason: 'no-previous' } | LockOutRefusal
> {
	return sql.begin(async (tx) => {
		const inputs = await loadRuleInputs(tx, { userId, rpId, lock: true });
		const [row] = await tx`select "previousSsoConfig" from "AppSettings" where id = 1`;
		const previous = row.previousSsoConfig as Partial<Connection> | null;
		if (!previous) return { ok: false, reason: 'no-previous' };
		const reenable = inputs.settings.ssoEnabled ? fallbackOnceSsoIsOff(inputs) : NOTHING;
		if (!reenable) return WOULD_LOCK_OUT;
		const keys = CONNECTION_KEYS.filter((k) => k in previous);
		if (keys.length) {
			await tx`update "AppSettings" set ${tx(previous as Record<string, unknown>, ...keys)} where id = 1`;
		}
		await tx`
			update "AppSettings" set
				"ssoEnabled" = false,
				"localAuthEnabled" = "localAuthEnabled" or ${reenable.local},
				"plexLoginEnabled" = "plexLoginEnabled" or ${reenable.plex},
				"previousSsoConfig" = null,
				"oidcClientAuthLearnt" = null,
				"ssoConfigVersion" = "ssoConfigVersion" + 1,
				"updatedAt" = now()
			where id = 1
		`;
		return { ok: true, reenable };
	});
}

/**
 * Forward-auth SSO is switched on only by a request that shows it will work: it came through a
 * trusted proxy (the TCP peer is in TRUSTED_PROXIES) and the proxy named, in the configured user
 * header, the identity linked to this admin. That is what Verify & Link proves for OIDC. Without
 * it (TRUSTED_PROXIES empty, the wrong header name, another user at the proxy) switching SSO on
 * would hide the password form while every SSO sign-in fails. Returns why not, or null.
 */
export function forwardEnableRefusal(
	client: ClientInfo,
	headers: Headers,
	sso: Pick<
		SsoConfig,
		'forwardAuthUserHeader' | 'forwardAuthEmailHeader' | 'forwardAuthNameHeader'
	>,
	linkedSubject: string | null
): string | null {
	const result = forwardIdentity(client, headers, {
		user: sso.forwardAuthUserHeader,
		email: sso.forwardAuthEmailHeader,
		name: sso.forwardAuthNameHeader
	});
	if (!result.ok && result.reason === 'untrusted_proxy') {
		return 'Forward-auth SSO can only be switched on through your authenticating proxy: this request did not come through a trusted proxy (TRUSTED_PROXIES), so nobody could sign in with SSO. Open this page through the proxy and try again.';
	}
	if (!result.ok) {
		return `Your proxy did not send a usable ${sso.forwardAuthUserHeader} header with this request, so SSO sign-in would fail. Check the User Header in step 1, then try again through the proxy.`;
	}
	if (result.identity.subject !== linkedSubject) {
		return `Your proxy names “${result.identity.subject}” in this request, but your account is linked to “${linkedSubject ?? ''}”. Link the identity of this request in step 2, then enable SSO.`;
	}
	return null;
}

export type SsoSwitchRefusal =
	| { reason: 'override' | 'not-configured' | 'not-linked' }
	| Omit<LockOutRefusal, 'ok'>
	| { reason: 'proof'; message: string };

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
