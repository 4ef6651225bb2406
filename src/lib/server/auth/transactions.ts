// Sign-ins in flight (OIDC and Plex) are rows, not memory: single use, ten minutes, and
// bound to the browser that started them by a random cookie whose hash is stored. Any app
// instance can finish what another started; a state or PIN replayed from another browser, or a
// second time, matches nothing.
//
// Anyone can start a sign-in, so the rows are bounded: one client address (an IPv6 /64, since
// a single host usually holds a whole /64) keeps at most MAX_OPEN_PER_ADDRESS of them, a new one
// replacing its oldest, and the whole table holds at most MAX_OPEN_TOTAL open ones, beyond which
// new sign-ins are refused until some expire. Replacing rather than refusing per address means a
// stranger behind the same address (a shared proxy, a NAT) has to keep starting sign-ins faster
// than the admin finishes one to get in the way, instead of a few per ten minutes to block
// every sign-in from that address. Finished and expired rows are purged by housekeeping.ts.
import { isIP } from 'node:net';
import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import { error, type Cookies } from '@sveltejs/kit';
import { sql } from '../db';

export const TRANSACTION_LIFETIME_MS = 10 * 60 * 1000;
/** Sign-ins in flight per client address (IPv4 /32, IPv6 /64); a new one drops the oldest. */
export const MAX_OPEN_PER_ADDRESS = 20;
/** Open sign-ins across all addresses; beyond this, new ones are refused with 429. */
export const MAX_OPEN_TOTAL = 10_000;
const ADDRESS_LOCK = 727_274_005; // arbitrary, fixed: "librariarr sign-ins per address"

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

/** The address as PostgreSQL's inet takes it (no IPv6 zone), or null when it is not one. */
function inetAddress(ip: string): string | null {
	const address = ip.replace(/%.*$/, '');
	return isIP(address) ? address : null;
}

export async function beginTransaction(
	cookies: Cookies,
	secure: boolean,
	fields: { kind: TransactionKind; purpose: Purpose; ip: string } & Partial<
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
	const ip = inetAddress(fields.ip);
	const stored = await sql.begin(async (tx) => {
		let net: string | null = null;
		if (ip !== null) {
			[{ net }] = await tx<{ net: string }[]>`
				select network(set_masklen(${ip}::inet, case family(${ip}::inet) when 6 then 64 else 32 end))::text as net
			`;
			// One start at a time per network, so that parallel starts cannot overshoot the cap.
			await tx`select pg_advisory_xact_lock(${ADDRESS_LOCK}, hashtext(${net}))`;
		}
		const [{ open }] = await tx<{ open: number }[]>`
			select count(*)::int as open from (
				select 1 from "LoginTransaction"
				where "expiresAt" > now() and "usedAt" is null limit ${MAX_OPEN_TOTAL}
			) t
		`;
		if (open >= MAX_OPEN_TOTAL) return false;
		await tx`insert into "LoginTransaction" ${tx({ ...row, ip })}`;
		if (net !== null) {
			await tx`
				delete from "LoginTransaction" where id in (
					select id from "LoginTransaction" where ip <<= ${net}::cidr
					order by "createdAt" desc, id desc offset ${MAX_OPEN_PER_ADDRESS}
				)
			`;
		}
		return true;
	});
	if (!stored) {
		error(
			429,
			'Too many sign-ins are in progress on this server right now. Wait a few minutes, then try again.'
		);
	}
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
