// The single sign-on configuration in "AppSettings": its one field list, reading it (with the
// client secret opened), and remembering what negotiation learnt. Saving and reverting step 1 is
// connection.ts; the enable switch is switch.ts.
import type postgres from 'postgres';
import { sql } from '../db';
import { open } from '../crypto';
import { log } from '../log';
import type { SsoMode } from '../rule/linked';
import { algorithmAccepted } from './algorithms';
import { observedFrom, type Observed } from './observed';
import { type MfaSetting } from './mfa-proof';
import { NO_RULE, type RequiredClaim } from './required-claim';

export type { SsoMode };

/** 'auto' lets the provider's discovery document decide; the others force one method. */
export const CLIENT_AUTH_SETTINGS = [
	'auto',
	'client_secret_basic',
	'client_secret_post',
	'none'
] as const;
export type ClientAuthSetting = (typeof CLIENT_AUTH_SETTINGS)[number];

export const CLIENT_AUTH_VARIANTS = ['basic', 'basic-raw', 'post'] as const;
/** A way to send the client's credentials; `none` is a public client (client_id only). */
export type ClientAuthVariant = (typeof CLIENT_AUTH_VARIANTS)[number] | 'none';
/** The connection settings of step 1, as stored (secret sealed). */
export type Connection = {
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

export const CONNECTION_KEYS = [
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
	/** What the provider was seen to send for this issuer and client id (observed.ts). */
	observed: Observed;
	/** "Required claim" as stored (required-claim.ts); claim-rule.ts says when it applies. */
	requiredClaim: RequiredClaim;
	/** "Require two-factor for SSO sign-ins" as stored (mfa-proof.ts); mfa.ts says when it applies. */
	mfa: MfaSetting;
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
			"oidcSeenUsernameClaim", "oidcSeenUsernameClaimFrom", "ssoRequiredClaim",
			"ssoRequiredClaimValues", "ssoMfaRequired", "ssoMfaAmr", "ssoMfaAcr", "ssoMfaMaxAgeMinutes"
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
		ssoRequiredClaim,
		ssoRequiredClaimValues,
		ssoMfaRequired,
		ssoMfaAmr,
		ssoMfaAcr,
		ssoMfaMaxAgeMinutes,
		...rest
	} = row;
	// Learnt for another issuer or client id (a direct database edit, a restore): not this one's.
	const learntFits = learntIssuer === row.oidcIssuer && learntClientId === row.oidcClientId;
	return {
		...(rest as Omit<
			SsoConfig,
			| 'clientSecret'
			| 'clientSecretUnreadable'
			| 'clientAuthLearnt'
			| 'observed'
			| 'requiredClaim'
			| 'mfa'
		>),
		mfa: {
			required: ssoMfaRequired,
			amr: ssoMfaAmr ?? [],
			acr: ssoMfaAcr ?? [],
			maxAgeMinutes: ssoMfaMaxAgeMinutes
		},
		requiredClaim: ssoRequiredClaim
			? { path: ssoRequiredClaim, values: ssoRequiredClaimValues ?? [] }
			: NO_RULE,
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
export const CLIENT_AUTH_KEYS: readonly string[] = [
	'oidcIssuer',
	'oidcClientId',
	'oidcClientSecret',
	'oidcClientAuthMethod'
];

/** What saving forgets the provider's observed behaviour for (observed.ts). */
export const OBSERVED_KEYS: readonly string[] = ['oidcIssuer', 'oidcClientId'];

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
