// API keys (issue 28): long random secrets a script or dashboard sends as `X-Api-Key` or
// `Authorization: Bearer` to reach /api/v1 and nothing else (hooks.server.ts, api-auth.ts).
//
// Model. A key is `lbr_` and 43 base64url characters (32 random bytes). Only its HMAC-SHA256
// under a key derived from the instance secret (crypto.ts, derivedKey) is stored: a fast keyed
// hash is enough for 256 random bits, and a copy of the database alone cannot be turned into
// working keys. Its first 12 characters (`lbr_` and 8 more) are its visible prefix, shown in the
// list and in logs; the rest is shown once, when it is made.
//
// Scope `read` reaches the GET endpoints, `full` also the ones that change something. No
// endpoint can make keys or change how anyone signs in: making a key is a Settings → Security
// action behind step-up (step-up.ts), so a stolen key never becomes a way in.
//
// Resolving a key is one query (the key, and whether its address is throttled). It writes only
// when the key is wrong (the address counter and a collapsed audit count, until the address is
// throttled: then nothing), and when "lastUsedAt" is more than an hour old or the address prefix
// differs from the last one (audited as use from a new address: one counted row per key and
// address, so a client switching between addresses adds no rows).
//
// Bound on rows: MAX_KEYS per user, revoked and expired ones included; making one more deletes
// the oldest revoked or expired key, or is refused when all are live.
import { createHmac, randomBytes } from 'node:crypto';
import { audit, auditFailure, auditRepeated } from '../audit';
import { derivedKey } from '../crypto';
import { sql } from '../db';
import { log } from '../log';
import { addressPrefix } from '../client';
import { addressRule, checkAndCount } from './throttle';

export const MAX_KEYS = 25;
export const KEY_PREFIX = 'lbr_';
const VISIBLE_LENGTH = KEY_PREFIX.length + 8;
const KEY_PATTERN = /^lbr_[A-Za-z0-9_-]{43}$/;
/** "lastUsedAt" is written at most this often per key (and on a new address). */
export const LAST_USED_PRECISION_MS = 60 * 60 * 1000;
export const EXPIRY_DAYS = [0, 30, 90, 365] as const;
export type ApiScope = 'read' | 'full';
export const THROTTLE_KIND = 'api-key';

export type ApiKeyEntry = {
	id: number;
	name: string;
	prefix: string;
	scope: ApiScope;
	createdAt: Date;
	expiresAt: Date | null;
	revokedAt: Date | null;
	lastUsedAt: Date | null;
	lastAddress: string | null;
};

/** The key a request resolved to (locals.apiKey): never the secret. */
export type ApiPrincipal = {
	id: number;
	userId: number;
	name: string;
	prefix: string;
	scope: ApiScope;
};

let hashKey: Buffer | null = null;

function hashOf(key: string): Buffer {
	return createHmac('sha256', (hashKey ??= derivedKey('api-key-hash')))
		.update(key)
		.digest();
}

/** Makes a key's text and its stored parts. */
export function generateKey() {
	const key = KEY_PREFIX + randomBytes(32).toString('base64url');
	return { key, prefix: key.slice(0, VISIBLE_LENGTH), hash: hashOf(key) };
}

/** The visible part of what a client sent, for logs: never more than the prefix. */
export function visiblePart(sent: string): string {
	return KEY_PATTERN.test(sent) ? sent.slice(0, VISIBLE_LENGTH) : '(not a key)';
}

export type CreateResult =
	{ ok: true; key: string; entry: ApiKeyEntry } | { ok: false; reason: 'too-many' };

/** A new key for the user; the caller has checked step-up. One transaction under the user's lock. */
export async function createApiKey(
	userId: number,
	input: { name: string; scope: ApiScope; expiresInDays: number },
	ip: string | null
): Promise<CreateResult> {
	const made = generateKey();
	const expiresAt = input.expiresInDays
		? new Date(Date.now() + input.expiresInDays * 24 * 60 * 60 * 1000)
		: null;
	const entry = await sql.begin(async (tx) => {
		await tx`select id from "User" where id = ${userId} for update`;
		const [{ count }] = await tx<{ count: number }[]>`
			select count(*)::int as count from "ApiKey" where "userId" = ${userId}`;
		if (count >= MAX_KEYS) {
			const gone = await tx`
				delete from "ApiKey" where id = (
					select id from "ApiKey"
					where "userId" = ${userId} and ("revokedAt" is not null or "expiresAt" <= now())
					order by coalesce("revokedAt", "expiresAt") limit 1
				) returning id`;
			if (!gone.length) return null;
		}
		const [row] = await tx<ApiKeyEntry[]>`
			insert into "ApiKey" ("userId", name, prefix, hash, scope, "expiresAt")
			values (${userId}, ${input.name}, ${made.prefix}, ${made.hash}, ${input.scope}, ${expiresAt})
			returning ${columns()}`;
		return row;
	});
	if (!entry) return { ok: false, reason: 'too-many' };
	await audit({
		event: 'api_key.created',
		userId,
		ip,
		detail: {
			prefix: entry.prefix,
			name: entry.name,
			scope: entry.scope,
			expiresAt: entry.expiresAt?.toISOString() ?? null
		}
	});
	return { ok: true, key: made.key, entry };
}

function columns() {
	return sql`id, name, prefix, scope, "createdAt", "expiresAt", "revokedAt", "lastUsedAt",
		"lastAddress"`;
}

/** The user's keys, newest first. */
export async function listApiKeys(userId: number): Promise<ApiKeyEntry[]> {
	return sql<ApiKeyEntry[]>`
		select ${columns()} from "ApiKey" where "userId" = ${userId}
		order by "createdAt" desc, id desc limit ${MAX_KEYS}`;
}

/** Renames one of the user's keys; false when it is not theirs. */
export async function renameApiKey(userId: number, id: number, name: string): Promise<boolean> {
	const rows = await sql`
		update "ApiKey" set name = ${name} where id = ${id} and "userId" = ${userId} returning id`;
	return rows.length > 0;
}

export type RevokeResult = 'revoked' | 'already' | 'not_found';

/** Revokes one of the user's keys at once: its next request is refused as revoked. */
export async function revokeApiKey(
	userId: number,
	id: number,
	ip: string | null
): Promise<RevokeResult> {
	const [row] = await sql<{ prefix: string; was: Date | null }[]>`
		with target as (
			select id, prefix, "revokedAt" from "ApiKey" where id = ${id} and "userId" = ${userId}
			for update
		), revoked as (
			update "ApiKey" k set "revokedAt" = now() from target t
			where k.id = t.id and t."revokedAt" is null returning k.id
		)
		select prefix, "revokedAt" as was from target`;
	if (!row) return 'not_found';
	if (row.was) return 'already';
	await audit({ event: 'api_key.revoked', userId, ip, detail: { prefix: row.prefix } });
	return 'revoked';
}

export type Resolution =
	| { ok: true; key: ApiPrincipal }
	| { ok: false; reason: 'wrong' | 'expired' | 'revoked' }
	| { ok: false; reason: 'throttled'; retryAfterSeconds: number };

type ResolveRow = {
	throttledFor: number | null;
	id: number | null;
	userId: number;
	name: string;
	prefix: string;
	scope: ApiScope;
	expired: boolean;
	revoked: boolean;
	lastUsedAt: Date | null;
	lastAddress: string | null;
};

/**
 * What a key sent by a client is. One query; writes only as the module comment says. A throttled
 * address is refused before the key is looked at, so a guess from it learns nothing.
 */
export async function resolveApiKey(sent: string, ip: string): Promise<Resolution> {
	const rule = addressRule(THROTTLE_KIND, ip);
	const hash = KEY_PATTERN.test(sent) ? hashOf(sent) : null;
	const [row] = await sql<ResolveRow[]>`
		select
			(select greatest(ceil(extract(epoch from "windowEndsAt" - now())), 1)::int
				from "Throttle" where key = ${rule.key} and attempts >= "maxAttempts"
				and "windowEndsAt" > now()) as "throttledFor",
			k.id, k."userId", k.name, k.prefix, k.scope, k."expiresAt" <= now() as expired,
			k."revokedAt" is not null as revoked, k."lastUsedAt", k."lastAddress"
		from (select 1) as one
		left join "ApiKey" k on k.hash = ${hash}
	`;
	if (row.throttledFor !== null) {
		return { ok: false, reason: 'throttled', retryAfterSeconds: row.throttledFor };
	}
	if (row.id === null) {
		await checkAndCount([rule]);
		await auditFailure({
			event: 'api_key.refused',
			method: 'api-key',
			ip,
			detail: { reason: 'unknown' }
		});
		return { ok: false, reason: 'wrong' };
	}
	// A key that was real: its holder is not guessing, so nothing is counted or written.
	if (row.revoked) return { ok: false, reason: 'revoked' };
	if (row.expired) return { ok: false, reason: 'expired' };
	const key: ApiPrincipal = {
		id: row.id,
		userId: row.userId,
		name: row.name,
		prefix: row.prefix,
		scope: row.scope
	};
	await noteUse(key, row, ip);
	return { ok: true, key };
}

/** "lastUsedAt" once an hour; a new address prefix at once, audited. */
async function noteUse(key: ApiPrincipal, row: ResolveRow, ip: string) {
	const address = addressPrefix(ip);
	const newAddress = row.lastAddress !== address;
	const stale = !row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() >= LAST_USED_PRECISION_MS;
	if (!newAddress && !stale) return;
	try {
		await sql`
			update "ApiKey" set "lastUsedAt" = now(), "lastAddress" = ${address} where id = ${key.id}`;
		if (newAddress) {
			// One row per key and address, counted: a client that alternates between two
			// addresses (IPv4 and IPv6) adds no rows after the first of each.
			await auditRepeated({
				event: 'api_key.new_address',
				userId: key.userId,
				method: 'api-key',
				ip,
				detail: { prefix: key.prefix, first: row.lastAddress === null },
				collapseKey: `api-key-address:${key.id}:${address}`
			});
		}
	} catch (error) {
		// Bookkeeping must not fail the request it describes.
		log.error('Could not record API key use', { prefix: key.prefix, error: String(error) });
	}
}
