// WebAuthn challenges handed to browsers, kept as rows so that any instance can finish what
// another began. Model: a challenge is single use (taken by one DELETE … RETURNING, so two
// requests racing with one challenge cannot both get it), lives five minutes, and is bound to
// what it was issued for: a registration to the user and the session that gave the proof, a
// sign-in to nothing but itself (the authenticator signs it; the signature is what counts).
//
// Bounded: a user keeps at most MAX_PER_USER registration challenges and a client address (an
// IPv6 /64) at most MAX_PER_ADDRESS sign-in challenges, a new one replacing the oldest (so a
// stranger behind the same NAT cannot block the admin by asking for a few); the table holds at
// most MAX_OPEN_TOTAL live ones, beyond which new challenges are refused until some expire.
// Expired rows are deleted by housekeeping.ts.
import { isIP } from 'node:net';
import { sql } from '../db';

export const CHALLENGE_LIFETIME_MS = 5 * 60 * 1000;
export const MAX_PER_USER = 5;
export const MAX_PER_ADDRESS = 10;
export const MAX_OPEN_TOTAL = 10_000;
const CHALLENGE_LOCK = 727_274_010; // arbitrary, fixed: "librariarr webauthn challenges"

export type ChallengePurpose = 'register' | 'authenticate';

export type StoredChallenge = {
	challenge: string;
	purpose: ChallengePurpose;
	userId: number | null;
	sessionId: string | null;
	rpId: string;
	origin: string;
	expiresAt: Date;
};

function inetAddress(ip: string): string | null {
	const address = ip.replace(/%.*$/, '');
	return isIP(address) ? address : null;
}

/**
 * Keeps a new challenge. False when the table is full (the caller answers 429). The per-user or
 * per-address cap is applied in the same transaction, under a lock per user or network, so that
 * parallel requests cannot overshoot it.
 */
export async function storeChallenge(row: {
	challenge: string;
	purpose: ChallengePurpose;
	userId?: number | null;
	sessionId?: string | null;
	ip: string;
	rpId: string;
	origin: string;
}): Promise<boolean> {
	const ip = inetAddress(row.ip);
	return sql.begin(async (tx) => {
		let net: string | null = null;
		if (row.purpose === 'register' && row.userId != null) {
			await tx`select pg_advisory_xact_lock(${CHALLENGE_LOCK}, ${row.userId})`;
		} else if (ip !== null) {
			[{ net }] = await tx<{ net: string }[]>`
				select network(set_masklen(${ip}::inet, case family(${ip}::inet) when 6 then 64 else 32 end))::text as net
			`;
			await tx`select pg_advisory_xact_lock(${CHALLENGE_LOCK}, hashtext(${net}))`;
		}
		const [{ open }] = await tx<{ open: number }[]>`
			select count(*)::int as open from (
				select 1 from "WebAuthnChallenge" where "expiresAt" > now() limit ${MAX_OPEN_TOTAL}
			) t
		`;
		if (open >= MAX_OPEN_TOTAL) return false;
		await tx`
			insert into "WebAuthnChallenge" (challenge, purpose, "userId", "sessionId", ip, "rpId", origin,
				"expiresAt")
			values (${row.challenge}, ${row.purpose}, ${row.userId ?? null}, ${row.sessionId ?? null},
				${ip}, ${row.rpId}, ${row.origin},
				now() + ${CHALLENGE_LIFETIME_MS} * interval '1 millisecond')
		`;
		if (row.purpose === 'register' && row.userId != null) {
			await tx`
				delete from "WebAuthnChallenge" where challenge in (
					select challenge from "WebAuthnChallenge"
					where purpose = 'register' and "userId" = ${row.userId}
					order by "createdAt" desc, challenge offset ${MAX_PER_USER}
				)
			`;
		} else if (net !== null) {
			await tx`
				delete from "WebAuthnChallenge" where challenge in (
					select challenge from "WebAuthnChallenge"
					where purpose = 'authenticate' and ip <<= ${net}::cidr
					order by "createdAt" desc, challenge offset ${MAX_PER_ADDRESS}
				)
			`;
		}
		return true;
	});
}

/**
 * Takes a challenge for use: deleted whatever happens next, returned only when it is live and
 * was issued for this purpose (and, for a registration, this user and session).
 */
export async function takeChallenge(
	challenge: string,
	purpose: ChallengePurpose,
	owner: { userId: number; sessionId: string } | null = null
): Promise<StoredChallenge | null> {
	const [row] = await sql<(StoredChallenge & { live: boolean })[]>`
		delete from "WebAuthnChallenge"
		where challenge = ${challenge} and purpose = ${purpose}
			and "userId" is not distinct from ${owner?.userId ?? null}
			and "sessionId" is not distinct from ${owner?.sessionId ?? null}
		returning challenge, purpose, "userId", "sessionId", "rpId", origin, "expiresAt",
			"expiresAt" > now() as live
	`;
	if (!row?.live) return null;
	const { live: _live, ...stored } = row;
	return stored;
}

/** Expired challenges (housekeeping). */
export async function purgeExpiredChallenges(db: typeof sql = sql): Promise<number> {
	return (await db`delete from "WebAuthnChallenge" where "expiresAt" <= now()`).count;
}
