// "Not me" (issue 31, part 2): the link in a new-browser or recovery-code alert.
//
// The sign-in's own statement (sign-in.ts) writes one "NotMe" row beside its alert: the SHA-256 of
// a random token (the token itself travels only sealed, in the alert's outbox row, and in the
// message), the session it made, the method, 24 hours to live. Only a sign-in writes one, and only
// when an alert is queued for it, so strangers write nothing: a bad token is read, never stored.
//
// GET (the confirmation page) only reads: chat apps open links to preview them. POST confirms, in
// one transaction holding the settings row lock: the row is used (single use), the session ends,
// the method is paused on the account unless that would leave no way in (the one rule,
// rule/inputs.ts; the session ends anyway), and an audit row is written.
//
// A pause is a key in "User"."pausedMethods": the session's method, with OIDC and forward auth
// both 'sso'. A sign-in with a paused method is refused in the sign-in's statement (sign-in.ts);
// any other sign-in of the account empties the list.
import { createHash } from 'node:crypto';
import type { Fragment } from 'postgres';
import { auditRow } from '../audit';
import { sql } from '../db';
import { accountWays, loadRuleInputs } from '../rule/inputs';
import type { Way } from '../rule/ways-in';
import { generateSessionToken, type LoginMethod } from './session';

export const NOT_ME_HOURS = 24;

export type PauseKey = 'local' | 'passkey' | 'recovery-code' | 'plex' | 'sso';

export function pauseKeyOf(method: LoginMethod | string): PauseKey {
	if (method === 'oidc' || method === 'forward-auth') return 'sso';
	return method as PauseKey;
}

/** What a paused key stops, in the words the login page and the confirmation page use. */
export const PAUSE_WORDS: Record<PauseKey, string> = {
	local: 'Signing in with the password',
	passkey: 'Signing in with a passkey',
	'recovery-code': 'Signing in with a recovery code',
	plex: 'Signing in with Plex',
	sso: 'Signing in with single sign-on'
};

export const isPauseKey = (value: string | null): value is PauseKey =>
	value !== null && Object.hasOwn(PAUSE_WORDS, value);

/** The way in (rule/ways-in.ts) a key stands for; recovery codes are not a way in. */
const WAY_OF: Record<PauseKey, Way | null> = {
	local: 'local',
	passkey: 'passkey',
	plex: 'plex',
	sso: 'sso',
	'recovery-code': null
};

const TOKEN_FORMAT = /^[a-z2-7]{32}$/;
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export const newNotMeToken = generateSessionToken;

/** In a sign-in's statement: the sign-in method is not paused for the account. */
export function notPaused(userId: number, method: LoginMethod): Fragment {
	return sql`not exists (select 1 from "User" where id = ${userId}::int
		and ${pauseKeyOf(method)}::text = any("pausedMethods"))`;
}

/** In a sign-in's statement: its "NotMe" row, when `onlyIf` holds and an alert of `kind` is queued. */
export function notMeRow(
	token: string,
	sessionId: string,
	userId: number,
	method: LoginMethod,
	kind: string,
	onlyIf: Fragment
): Fragment {
	return sql`
		insert into "NotMe" (id, "sessionId", "userId", method, "expiresAt")
		select ${hashOf(token)}, ${sessionId}, ${userId}::int, ${method}::text,
			now() + make_interval(hours => ${NOT_ME_HOURS})
		where ${onlyIf} and exists (select 1 from "AlertChannel" c
			join "AlertSettings" s on s.id = 1 and ${kind}::text = any(s.events) where c.enabled)
	`;
}

/** In a sign-in's statement: a sign-in (not paused, by then) lifts the account's pauses. */
export function liftPauses(
	userId: number,
	method: LoginMethod,
	ip: string | null,
	onlyIf: Fragment
) {
	const paused = sql`exists (select 1 from "User" where id = ${userId}::int
		and cardinality("pausedMethods") > 0)`;
	return [
		sql`update "User" set "pausedMethods" = '{}' where id = ${userId}::int
			and cardinality("pausedMethods") > 0 and ${onlyIf}`,
		auditRow({ event: 'not_me.pause_lifted', userId, method, ip }, sql`${onlyIf} and ${paused}`)
	];
}

export type NotMeLink =
	| { state: 'valid'; method: LoginMethod; key: PauseKey; signedInAt: Date; ip: string | null }
	| { state: 'gone' };

/** What the confirmation page shows for a token; reads only. */
export async function findNotMe(token: string): Promise<NotMeLink> {
	if (!TOKEN_FORMAT.test(token)) return { state: 'gone' };
	const [row] = await sql<{ method: LoginMethod; createdAt: Date; ip: string | null }[]>`
		select n.method, n."createdAt", s.ip from "NotMe" n
		left join "Session" s on s.id = n."sessionId"
		where n.id = ${hashOf(token)} and n."usedAt" is null and n."expiresAt" > now()
	`;
	if (!row) return { state: 'gone' };
	return {
		state: 'valid',
		method: row.method,
		key: pauseKeyOf(row.method),
		signedInAt: row.createdAt,
		ip: row.ip
	};
}

export type NotMeOutcome = { state: 'gone' } | { state: 'done'; key: PauseKey; paused: boolean };

/**
 * Confirms a "Not me": one transaction. The session ends; the method is paused unless it is the
 * account's last way in; the audit row says which.
 */
export async function confirmNotMe(token: string, rpId: string, ip: string | null) {
	if (!TOKEN_FORMAT.test(token)) return { state: 'gone' } as NotMeOutcome;
	return sql.begin(async (tx): Promise<NotMeOutcome> => {
		const [row] = await tx<{ sessionId: string | null; userId: number; method: LoginMethod }[]>`
			update "NotMe" set "usedAt" = now()
			where id = ${hashOf(token)} and "usedAt" is null and "expiresAt" > now()
			returning "sessionId", "userId", method
		`;
		if (!row) return { state: 'gone' };
		const key = pauseKeyOf(row.method);
		const inputs = await loadRuleInputs(tx, { userId: row.userId, rpId, lock: true });
		const [user] = await tx<{ pausedMethods: string[] }[]>`
			select "pausedMethods" from "User" where id = ${row.userId} for update
		`;
		const already = new Set(user?.pausedMethods ?? []);
		const way = WAY_OF[key];
		// The ways left once this one is paused too (and those paused before stay paused).
		const left = inputs.account
			? accountWays(inputs).filter(
					(w) => w !== way && !Object.entries(WAY_OF).some(([k, v]) => v === w && already.has(k))
				)
			: [];
		const paused = Boolean(inputs.account) && (way === null || left.length > 0);
		if (row.sessionId) await tx`delete from "Session" where id = ${row.sessionId}`;
		if (paused) {
			await tx`
				update "User" set "pausedMethods" = array_append("pausedMethods", ${key}::text)
				where id = ${row.userId} and not (${key}::text = any("pausedMethods"))
			`;
		}
		await tx`${auditRow({
			event: 'not_me.confirmed',
			userId: row.userId,
			method: row.method,
			ip,
			detail: { paused, refused: paused ? null : 'last-way-in', sessionEnded: !!row.sessionId }
		})}`;
		return { state: 'done', key, paused };
	});
}

/** Housekeeping: links past their 24 hours. */
export async function purgeNotMe(db: typeof sql): Promise<number> {
	const gone = await db`delete from "NotMe" where "expiresAt" <= now()`;
	return gone.count;
}

/** What a "Not me" paused on the account (Settings → Security shows it). */
export async function pausedFor(userId: number): Promise<string[]> {
	const [row] = await sql<{ pausedMethods: string[] }[]>`
		select "pausedMethods" from "User" where id = ${userId}`;
	return (row?.pausedMethods ?? []).filter(isPauseKey).map((k) => PAUSE_WORDS[k]);
}

/** Settings → Security: the admin lifts the pauses; one statement with its audit row. */
export async function resumeSignIn(userId: number, ip: string | null): Promise<boolean> {
	const [row] = await sql`
		with lifted as (
			update "User" set "pausedMethods" = '{}'
			where id = ${userId} and cardinality("pausedMethods") > 0 returning id
		), audited as (
			${auditRow({ event: 'not_me.pause_lifted', userId, ip, detail: { from: 'settings' } }, sql`exists (select 1 from lifted)`)}
		)
		select count(*)::int as lifted from lifted`;
	return row.lifted > 0;
}
