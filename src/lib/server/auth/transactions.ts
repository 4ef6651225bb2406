// Sign-ins in flight (OIDC and Plex) are rows, not memory: single use, ten minutes, and
// bound to the browser that started them by a random cookie whose hash is stored. Any app
// instance can finish what another started; a state or PIN replayed from another browser, or a
// second time, matches nothing.
import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import type { Cookies } from '@sveltejs/kit';
import { sql } from '../db';

export const TRANSACTION_LIFETIME_MS = 10 * 60 * 1000;

export type TransactionKind = 'oidc' | 'plex';
export type Purpose = 'login' | 'link' | 'setup';

export type LoginTransaction = {
	id: string;
	kind: TransactionKind;
	purpose: Purpose;
	state: string | null;
	nonce: string | null;
	codeVerifier: string | null;
	plexPinId: string | null;
	plexPinCode: string | null;
	returnTo: string | null;
	userId: number | null;
	expiresAt: Date;
};

function randomToken(bytes = 20) {
	const b = new Uint8Array(bytes);
	crypto.getRandomValues(b);
	return encodeBase32LowerCaseNoPadding(b);
}

function hash(value: string) {
	return encodeHexLowerCase(sha256(new TextEncoder().encode(value)));
}

const cookieName = (kind: TransactionKind) => `librariarr_${kind}_tx`;

export async function beginTransaction(
	cookies: Cookies,
	secure: boolean,
	fields: { kind: TransactionKind; purpose: Purpose } & Partial<
		Pick<
			LoginTransaction,
			'state' | 'nonce' | 'codeVerifier' | 'plexPinId' | 'plexPinCode' | 'returnTo' | 'userId'
		>
	>
) {
	const binding = randomToken();
	const row = {
		id: randomToken(),
		kind: fields.kind,
		purpose: fields.purpose,
		browserBinding: hash(binding),
		state: fields.state ?? null,
		nonce: fields.nonce ?? null,
		codeVerifier: fields.codeVerifier ?? null,
		plexPinId: fields.plexPinId ?? null,
		plexPinCode: fields.plexPinCode ?? null,
		returnTo: fields.returnTo ?? null,
		userId: fields.userId ?? null,
		expiresAt: new Date(Date.now() + TRANSACTION_LIFETIME_MS)
	};
	await sql`insert into "LoginTransaction" ${sql(row)}`;
	// Housekeeping: expired transactions are of no use to anyone.
	await sql`delete from "LoginTransaction" where "expiresAt" < now() - interval '1 hour'`;
	// Lax: the provider sends the browser back with a top-level GET, which carries Lax cookies.
	cookies.set(cookieName(fields.kind), binding, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		maxAge: TRANSACTION_LIFETIME_MS / 1000
	});
	return row;
}

/**
 * Takes the transaction named by `state` (OIDC) or `id` (Plex) if, and only if, it was started
 * by this browser, is unused and unexpired. Taking it marks it used, atomically, so a replay finds
 * nothing. Clears the binding cookie either way.
 */
export async function takeTransaction(
	cookies: Cookies,
	secure: boolean,
	kind: TransactionKind,
	match: { state: string } | { id: string }
): Promise<LoginTransaction | null> {
	const binding = cookies.get(cookieName(kind));
	cookies.delete(cookieName(kind), { path: '/', httpOnly: true, sameSite: 'lax', secure });
	if (!binding) return null;
	const where = 'state' in match ? sql`state = ${match.state}` : sql`id = ${match.id}`;
	const [row] = await sql<LoginTransaction[]>`
		update "LoginTransaction" set "usedAt" = now()
		where kind = ${kind} and ${where} and "browserBinding" = ${hash(binding)}
			and "usedAt" is null and "expiresAt" > now()
		returning id, kind, purpose, state, nonce, "codeVerifier", "plexPinId", "plexPinCode", "returnTo", "userId", "expiresAt"
	`;
	return row ?? null;
}
