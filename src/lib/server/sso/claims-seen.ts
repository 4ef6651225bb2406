// The user's own claims from their last verified SSO sign-in or Verify & Link, kept so that
// turning "Required claim" on can be refused when it would lock them out (claim-rule.ts).
//
// Model: one copy per user, in "User"."ssoClaimsSeen": bounded (required-claim.ts keepClaims:
// the rule reads the same from it as from the original), sealed with the instance key (claims
// name the person: email, groups), and bound to the (issuer, subject) they came with: read only
// while the user's link is that identity. A keyed digest beside it lets a sign-in that saw the
// same claims write nothing; losing the write never fails the sign-in.
import { createHmac } from 'node:crypto';
import type postgres from 'postgres';
import { derivedKey, open, seal } from '../crypto';
import { sql } from '../db';
import { log } from '../log';
import { keepClaims } from './required-claim';

export type ClaimsSeen = {
	issuer: string;
	subject: string;
	claims: Record<string, unknown>;
	/** Top-level claims left out to keep the copy small. */
	dropped: string[];
};

let digestKey: Buffer | null = null;

function digest(text: string) {
	digestKey ??= derivedKey('claims-seen');
	return createHmac('sha256', digestKey).update(text).digest('hex');
}

/** Keeps what the provider has just vouched for about `userId` (identity and claims). */
export async function noteClaimsSeen(
	userId: number,
	identity: { issuer: string; subject: string },
	claims: Record<string, unknown>
) {
	const kept = keepClaims(claims);
	// Only these: the caller's identity may carry more (the ID token itself), which is not kept.
	const seen: ClaimsSeen = { issuer: identity.issuer, subject: identity.subject, ...kept };
	const text = JSON.stringify(seen);
	const sum = digest(text);
	try {
		await sql`
			update "User" set "ssoClaimsSeen" = ${seal(text)}, "ssoClaimsSeenDigest" = ${sum}
			where id = ${userId} and "ssoClaimsSeenDigest" is distinct from ${sum}
		`;
	} catch (error) {
		log.warn('Could not keep the claims of this sign-in', { error: String(error) });
	}
}

/**
 * The claims last seen for `userId`, when they belong to `link` (the user's current SSO
 * identity); null when none were kept, they were kept for another identity, or they no longer
 * open (the instance key changed).
 */
export async function claimsSeenFor(
	db: postgres.Sql | postgres.TransactionSql,
	userId: number,
	link: { ssoIssuer: string | null; ssoSubject: string | null }
): Promise<ClaimsSeen | null> {
	const [row] = await db<{ ssoClaimsSeen: string | null }[]>`
		select "ssoClaimsSeen" from "User" where id = ${userId}
	`;
	const text = open(row?.ssoClaimsSeen);
	if (!text) return null;
	let seen: ClaimsSeen;
	try {
		seen = JSON.parse(text) as ClaimsSeen;
	} catch {
		return null;
	}
	if (seen.issuer !== link.ssoIssuer || seen.subject !== link.ssoSubject) return null;
	return seen;
}
