// Single use of sign-in flows (sign-in-flows.ts keeps them in the browser, not here).
//
// Model. A flow is recorded only once it has been *used*: after the provider verified the OIDC
// code and ID token, after Plex handed over a token for the PIN, after the authenticator's
// signature over the challenge checked out. What is recorded is a SHA-256 of the flow's kind and
// its state (or PIN binding, or challenge), with the flow's own expiry; the primary key makes the
// insert the check, so of two requests racing with one flow (a copied cookie, a replayed
// callback) exactly one gets through. Nothing is written for a flow that was merely started, or
// that failed before that proof, so a stranger cannot make this table grow: a row costs a real
// sign-in at the provider, at plex.tv or with a registered passkey. Rows past their expiry can
// never match a live flow again and are purged by housekeeping.ts.
import { createHash } from 'node:crypto';
import { sql } from '../db';
import type { FlowKind } from './sign-in-flows';

function hashOf(kind: FlowKind, token: string) {
	return createHash('sha256').update(`${kind}:${token}`).digest('hex');
}

/** True the first time a flow is used; false for every later use of the same flow. */
export async function useFlowOnce(kind: FlowKind, token: string, expiresAt: Date) {
	const rows = await sql`
		insert into "UsedSignInFlow" (hash, "expiresAt") values (${hashOf(kind, token)}, ${expiresAt})
		on conflict (hash) do nothing
		returning hash
	`;
	return rows.length === 1;
}

/** Records past their flow's expiry (housekeeping). */
export async function purgeUsedFlows(db: typeof sql = sql): Promise<number> {
	return (await db`delete from "UsedSignInFlow" where "expiresAt" <= now()`).count;
}
