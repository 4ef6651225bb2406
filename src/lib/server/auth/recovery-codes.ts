// One-time recovery codes: the way back in when the identity provider is down, or the
// authenticator app is lost, that needs no shell on the host.
//
// Model. Ten codes per user, each 80 random bits written as 16 base32 characters in groups of
// four. They are shown once and stored only as HMAC-SHA-256 under a key derived from the app key.
// A slow password hash is not needed here: it protects guessable secrets, and an 80-bit random
// code cannot be guessed even at a fast hash's speed; the key means a dump of the table alone
// does not even allow trying. (If the app key is lost, the codes stop working: create new ones.)
//
// A code is used up by one UPDATE that also checks it is unused: of two requests racing with the
// same code, the second finds the row already used (the row lock makes it re-read) and is
// refused. Regenerating deletes the old set, so a user never has more than ten rows.
//
// Recovery codes are not a way in for the one rule (rule/ways-in.ts): they run out, so they never
// justify turning off the last real way in.
import { createHmac, randomBytes } from 'node:crypto';
import { encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { sql } from '../db';
import { derivedKey } from '../crypto';

export const RECOVERY_CODE_COUNT = 10;
const CODE_BYTES = 10; // 80 bits, 16 base32 characters

let hmacKey: Buffer | null = null;

/** A new code, e.g. "K7QW-3MZP-XT2D-9FHA" (base32 has no 0, 1, 8 or 9; see normalise). */
export function newRecoveryCode(): string {
	return encodeBase32UpperCaseNoPadding(randomBytes(CODE_BYTES)).replace(/(.{4})(?=.)/g, '$1-');
}

/**
 * A code as typed, reduced to its 16 characters: any case, spaces and dashes ignored, and the
 * digits people type for the letters base32 lacks read as those letters (0 → O, 1 → I, 8 → B).
 * Null when it cannot be a code.
 */
export function normaliseRecoveryCode(input: string): string | null {
	const code = input
		.toUpperCase()
		.replace(/[\s-]/g, '')
		.replace(/0/g, 'O')
		.replace(/1/g, 'I')
		.replace(/8/g, 'B');
	return /^[A-Z2-7]{16}$/.test(code) ? code : null;
}

/** What is stored for a (normalised) code. */
export function hashRecoveryCode(
	code: string,
	key: Buffer = (hmacKey ??= derivedKey('recovery-codes'))
) {
	return createHmac('sha256', key).update(code).digest('hex');
}

/**
 * Replaces the user's codes with ten new ones and returns them (the only time they exist in
 * clear). In one transaction holding the settings row, like every auth state change; the one
 * rule is untouched (codes are not a way in).
 */
export async function regenerateRecoveryCodes(userId: number): Promise<string[]> {
	const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
	const rows = codes.map((code) => ({
		userId,
		codeHash: hashRecoveryCode(normaliseRecoveryCode(code)!)
	}));
	await sql.begin(async (tx) => {
		await tx`select 1 from "AppSettings" where id = 1 for update`;
		await tx`delete from "RecoveryCode" where "userId" = ${userId}`;
		await tx`insert into "RecoveryCode" ${tx(rows, 'userId', 'codeHash')}`;
	});
	return codes;
}

/** How many of the user's codes are still unused. */
export async function unusedRecoveryCodes(userId: number): Promise<number> {
	const [row] = await sql<{ count: number }[]>`
		select count(*)::int as count from "RecoveryCode" where "userId" = ${userId} and "usedAt" is null
	`;
	return row.count;
}

/**
 * Uses up `input` if it is one of the user's unused codes; returns how many are left then, or
 * null when it is not (wrong, already used, or not a code at all).
 */
export async function useRecoveryCode(userId: number, input: string): Promise<number | null> {
	const code = normaliseRecoveryCode(input);
	if (!code) return null;
	const [row] = await sql<{ used: number; left: number }[]>`
		with used as (
			update "RecoveryCode" set "usedAt" = now()
			where "userId" = ${userId} and "codeHash" = ${hashRecoveryCode(code)} and "usedAt" is null
			returning id
		)
		select (select count(*) from used)::int as used,
			(select count(*) from "RecoveryCode"
				where "userId" = ${userId} and "usedAt" is null)::int - (select count(*) from used)::int as left
	`;
	// The outer select sees the rows as they were before the update: hence the subtraction.
	return row.used === 1 ? row.left : null;
}

/** The text file of freshly shown codes, or null unless `codes` is one to ten well-formed codes. */
export function newRecoveryCodesFile(
	codes: unknown[],
	where: { origin: string; username: string }
): string | null {
	if (codes.length < 1 || codes.length > RECOVERY_CODE_COUNT) return null;
	const shown = codes.map((c) => (typeof c === 'string' ? normaliseRecoveryCode(c) : null));
	if (shown.some((c) => c === null)) return null;
	// The full address: a file found months later, on another device, must say where it works.
	return [
		`Librariarr recovery codes for ${where.username}`,
		`Each code signs you in once at ${where.origin}/login/recovery (with your username).`,
		'',
		...shown.map((c) => c!.replace(/(.{4})(?=.)/g, '$1-')),
		''
	].join('\n');
}

/**
 * The user a recovery sign-in names: by the local username, or, for an account without one, by
 * its Plex username (any case). Null when there is none.
 */
export async function findRecoveryAccount(username: string): Promise<number | null> {
	const name = username.trim().toLowerCase();
	const [row] = await sql<{ id: number }[]>`
		select id from "User"
		where "localUsername" = ${name} or ("localUsername" is null and lower("plexUsername") = ${name})
		order by "localUsername" is null, id limit 1
	`;
	return row?.id ?? null;
}

/**
 * What Settings → Authentication says about recovery codes: after a sign-in with one (this
 * session's method, and the `?recovered=1` it landed with), how many are left; while SSO is on,
 * that there are none. Null when there is nothing to say.
 */
export async function recoveryNotice(
	userId: number,
	ssoEnabled: boolean,
	session: { method: string } | null,
	params: URLSearchParams
): Promise<{ usedOne: boolean; left: number } | null> {
	const usedOne = session?.method === 'recovery-code' && params.get('recovered') === '1';
	if (!usedOne && !ssoEnabled) return null;
	const left = await unusedRecoveryCodes(userId);
	return usedOne || left === 0 ? { usedOne, left } : null;
}
