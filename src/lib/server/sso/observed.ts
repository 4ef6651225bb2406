// What the identity provider was seen to send, kept so that Test Discovery can say what applies
// instead of guessing from the lists of its discovery document (issue 24): providers list every
// signing algorithm they can do, and `claims_supported` is often partial.
//
// Model: one observation, for one issuer and client id (those of the saved settings when it was
// made), in "AppSettings": the algorithm of the first ID token that verified (or of the last one
// refused for its algorithm, such as HS256), and where the username claim came from at the last
// sign-in or Verify & Link (the ID token, userinfo, or nowhere). Read only while the issuer and
// client id are still the saved ones; saving others clears it (connection.ts). A sign-in writes only when
// it saw something new, so a provider that behaves the same costs no write; losing the write
// never fails the sign-in.
import { sql } from '../db';
import { log } from '../log';

export type UsernameClaimFrom = 'id_token' | 'userinfo' | 'missing';
const CLAIM_SOURCES: readonly string[] = ['id_token', 'userinfo', 'missing'];

export type Observed = {
	/** The ID token algorithm seen, and whether it verified (false: refused for its algorithm). */
	idTokenAlg: { alg: string; accepted: boolean } | null;
	/** Where the named username claim came from at the last sign-in. */
	usernameClaim: { claim: string; from: UsernameClaimFrom } | null;
};

export const NOTHING_OBSERVED: Observed = { idTokenAlg: null, usernameClaim: null };

type Row = {
	oidcSeenIssuer: string | null;
	oidcSeenClientId: string | null;
	oidcSeenIdTokenAlg: string | null;
	oidcSeenUsernameClaim: string | null;
	oidcSeenUsernameClaimFrom: string | null;
};

/**
 * The observation as stored, for the saved issuer and client id; nothing when it was made for
 * others (a restore, a database edit). `accepted` is whether the stored algorithm is one the
 * sign-in accepts, which the caller knows (oidc.ts's list).
 */
export function observedFrom(
	issuer: string | null,
	clientId: string | null,
	row: Row,
	accepted: (alg: string) => boolean
): Observed {
	if (!issuer || row.oidcSeenIssuer !== issuer || row.oidcSeenClientId !== clientId)
		return NOTHING_OBSERVED;
	const alg = row.oidcSeenIdTokenAlg;
	const claim = row.oidcSeenUsernameClaim;
	const from = row.oidcSeenUsernameClaimFrom;
	return {
		idTokenAlg: alg ? { alg, accepted: accepted(alg) } : null,
		usernameClaim:
			claim && from && CLAIM_SOURCES.includes(from)
				? { claim, from: from as UsernameClaimFrom }
				: null
	};
}

/** An algorithm name as a JWT header may carry it, or null for anything else. */
export function algName(value: unknown): string | null {
	return typeof value === 'string' && /^[A-Za-z0-9+_-]{1,20}$/.test(value) ? value : null;
}

export type Sighting = {
	/** The ID token's algorithm; `accepted` false when it was refused for it. */
	idTokenAlg?: { alg: string; accepted: boolean };
	/** Where the username claim came from; absent when it could not be told (userinfo failed). */
	usernameClaim?: { claim: string; from: UsernameClaimFrom };
};

/**
 * What the observation becomes after `seen`, or null when nothing changes: the first verified
 * algorithm stays (a later one replaces only a refused one), a refused algorithm always shows,
 * the claim's source is the latest.
 */
export function nextObservation(current: Observed, seen: Sighting): Observed | null {
	let idTokenAlg = current.idTokenAlg;
	if (seen.idTokenAlg) {
		const keep = idTokenAlg?.accepted && seen.idTokenAlg.accepted;
		if (!keep) idTokenAlg = seen.idTokenAlg;
	}
	const usernameClaim = seen.usernameClaim ?? current.usernameClaim;
	const same =
		idTokenAlg?.alg === current.idTokenAlg?.alg &&
		idTokenAlg?.accepted === current.idTokenAlg?.accepted &&
		usernameClaim?.claim === current.usernameClaim?.claim &&
		usernameClaim?.from === current.usernameClaim?.from;
	return same ? null : { idTokenAlg, usernameClaim };
}

/**
 * Records what a sign-in saw, when it is new. One UPDATE, and only while the settings it was
 * seen with are still the saved ones (the configuration version has not moved on).
 */
export async function noteProviderSent(
	saved: { issuer: string; clientId: string; ssoConfigVersion: number; observed: Observed },
	seen: Sighting
) {
	const next = nextObservation(saved.observed, seen);
	if (!next) return;
	try {
		await sql`
			update "AppSettings" set "oidcSeenIssuer" = ${saved.issuer},
				"oidcSeenClientId" = ${saved.clientId},
				"oidcSeenIdTokenAlg" = ${next.idTokenAlg?.alg ?? null},
				"oidcSeenUsernameClaim" = ${next.usernameClaim?.claim ?? null},
				"oidcSeenUsernameClaimFrom" = ${next.usernameClaim?.from ?? null}
			where id = 1 and "ssoConfigVersion" = ${saved.ssoConfigVersion}
				and "oidcIssuer" = ${saved.issuer} and "oidcClientId" = ${saved.clientId}
		`;
	} catch (error) {
		log.warn('Could not record what the identity provider sent', { error: String(error) });
	}
}
