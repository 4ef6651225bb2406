// Throttling of secret checks (passwords today; the current password in settings; later TOTP
// codes, recovery codes, first-run restores), counted in PostgreSQL so that it holds across
// restarts and across app instances.
//
// Model. Every attempt is counted *before* the secret is checked, by one upsert per key that
// returns the new count: the attempt goes ahead only when every key's returned count is within
// that key's limit. So however many attempts arrive at once, at most `maxAttempts` of them per key
// and window ever reach the secret check: the database hands out the numbers 1, 2, 3, … one at a
// time (the upsert takes the row lock). Keys are counted one after the other, cheapest to abuse
// first, and counting stops at the first key that refuses: a refused attempt never creates rows
// for the keys behind it, which bounds the table (see below). The upserts are chained in one
// statement (countingCtes), so counting costs one round trip, and a sign-in can read what else it
// needs in that same statement (password-attempt.ts).
//
// A key counts over a fixed window that starts with its first attempt. Once the key is over its
// limit, attempts are refused until the window ends; refused attempts are counted but do not
// extend the window. A successful check clears the keys that name this client and this account
// together and gives back the attempt it counted on the wider keys.
//
// Keys for a secret check of kind K (see `secretCheckRules`):
//   K:address:<prefix>          every attempt from one client address (its addressPrefix:
//                               an IPv4 address, an IPv6 /64, as every address key is)
//   K:pair:<prefix>:<account>   one address against one account
//   K:account:<account>         one account from every browser it has not signed in from before
// A browser that holds a valid known-device cookie for the account (known-device.ts) counts
// under keys of its own instead of all three:
//   K:known:<prefix>            known browsers from one address: a loose backstop, far above
//                               what one owner needs
//   K:device:<device id>        one account from that browser
// A stranger's guesses therefore fill the address, pair and account keys, never the owner's: at a
// shared address (a NAT, or a proxy that is not in TRUSTED_PROXIES) the owner keeps signing in
// from their own browser while guessing stays bounded everywhere.
//
// Bound on rows: one per key seen in the current window; expired rows are deleted as attempts
// come in. Per client address at most ADDRESS.maxAttempts attempts pass the address key per
// window, so one address adds at most 1 + 2 × that many rows per window.
import type postgres from 'postgres';
import { auditRepeated } from '../audit';
import { sql } from '../db';
import { addressPrefix } from '../client';

export const WINDOW_MS = 15 * 60 * 1000;

export type Limit = { maxAttempts: number; windowMs: number };

/** The limits of a secret check, per key scope. Every number is in the README. */
export const LIMITS = {
	address: { maxAttempts: 20, windowMs: WINDOW_MS },
	pair: { maxAttempts: 10, windowMs: WINDOW_MS },
	account: { maxAttempts: 10, windowMs: WINDOW_MS },
	known: { maxAttempts: 100, windowMs: WINDOW_MS },
	device: { maxAttempts: 10, windowMs: WINDOW_MS }
} as const satisfies Record<string, Limit>;

/** What is being checked. Part of every key, so that kinds never share a counter. */
export type SecretKind = 'password' | 'current-password' | 'totp' | 'recovery-code';

export type Scope = keyof typeof LIMITS;

/** One counter: its key, what it guards (for the admin's list) and its limit. */
export type ThrottleRule = Limit & { key: string; kind: string; scope?: Scope | string };

export type Verdict =
	| { allowed: true }
	| {
			allowed: false;
			key: string;
			scope: string | undefined;
			/** Seconds until this key's window ends and attempts are allowed again (at least 1). */
			retryAfterSeconds: number;
			windowEndsAt: Date;
	  };

/** Who is making a secret check: the client address, the account, a known-device id if any. */
export type Attempter = { ip: string; account: string; device?: string | null };

export function normaliseAccount(account: string): string {
	return account.trim().toLowerCase();
}

/** The keys a secret check of this kind counts against, in the order they are counted. */
export function secretCheckRules(kind: SecretKind, who: Attempter): ThrottleRule[] {
	const account = normaliseAccount(who.account);
	const address = addressPrefix(who.ip);
	const rule = (scope: Scope, key: string): ThrottleRule => ({
		key: `${kind}:${scope}:${key}`,
		kind,
		scope,
		...LIMITS[scope]
	});
	if (who.device) return [rule('known', address), rule('device', who.device)];
	return [
		rule('address', address),
		rule('pair', `${address}:${account}`),
		rule('account', account)
	];
}

/** A per-address counter of another kind (passkey sign-ins, restores, back-channel logouts). */
export function addressRule(kind: string, ip: string, limit: Limit = LIMITS.address): ThrottleRule {
	return { key: `${kind}:address:${addressPrefix(ip)}`, kind, scope: 'address', ...limit };
}

let lastPurge = 0;
const PURGE_EVERY_MS = 60 * 1000;

/** Whether this attempt also deletes rows whose window has ended (at most once a minute). */
function purgeDue() {
	if (Date.now() - lastPurge < PURGE_EVERY_MS) return false;
	lastPurge = Date.now();
	return true;
}

/**
 * One step of a count: a rule, or a choice between two rules that SQL makes with `when` (a sign-in
 * learns whose known-device cookie counts only from the account it reads in the same statement).
 * `then: null` counts nothing when `when` holds (a known browser has fewer keys than a stranger).
 */
export type CountStep =
	ThrottleRule | { when: postgres.Fragment; then: ThrottleRule | null; otherwise: ThrottleRule };

const rulesOf = (step: CountStep): ThrottleRule[] =>
	'when' in step ? [step.then, step.otherwise].filter((r) => r !== null) : [step];

/** A value of the step's rule, chosen in SQL for a choice. */
function pick(step: CountStep, value: (rule: ThrottleRule) => string | number) {
	if (!('when' in step)) return sql`${value(step)}`;
	if (step.then === null) return sql`${value(step.otherwise)}`;
	return sql`case when ${step.when} then ${value(step.then)} else ${value(step.otherwise)} end`;
}

/** Whether the step counts at all (not when its choice is "nothing"; NULL is "not chosen"). */
function applies(step: CountStep) {
	return 'when' in step && step.then === null ? sql`not coalesce(${step.when}, false)` : sql`true`;
}

/**
 * The counting as common table expressions, for a statement that may read other things too. Each
 * step is one upsert that runs only when `gate` holds and every step before it stayed within its
 * limit (it reads their RETURNING, so PostgreSQL runs them in order); the rows land in `counted`.
 * Expired rows are purged alongside now and then, skipping rows other attempts hold, so that two
 * attempts never wait on each other's purge.
 */
export function countingCtes(steps: CountStep[], gate: postgres.Fragment = sql`true`) {
	const keys = steps.flatMap(rulesOf).map((r) => r.key);
	let ctes = sql`
		purge as (
			delete from "Throttle" where key in (
				select key from "Throttle"
				where ${purgeDue()} and "windowEndsAt" <= now() and key <> all(${keys}::text[])
				for update skip locked
			)
		)`;
	const names: string[] = [];
	steps.forEach((step, i) => {
		const previous = names.at(-1);
		const name = `count${i}`;
		const within = previous
			? sql`exists (select 1 from ${sql(previous)} p where p.attempts <= p."maxAttempts")`
			: sql`true`;
		ctes = sql`${ctes},
		${sql(name)} as (
			insert into "Throttle" as t (key, kind, attempts, "maxAttempts", "windowEndsAt")
			select ${pick(step, (r) => r.key)}, ${pick(step, (r) => r.kind)}, 1,
				${pick(step, (r) => r.maxAttempts)}::int,
				now() + ${pick(step, (r) => r.windowMs)}::int * interval '1 millisecond'
			where ${gate} and ${within} and ${applies(step)}
			on conflict (key) do update set
				attempts = case when t."windowEndsAt" <= now() then 1
					else least(t.attempts + 1, 1000000) end,
				"windowEndsAt" = case when t."windowEndsAt" <= now() then excluded."windowEndsAt"
					else t."windowEndsAt" end,
				"maxAttempts" = excluded."maxAttempts",
				kind = excluded.kind
			returning key, attempts, "maxAttempts", "windowEndsAt",
				greatest(ceil(extract(epoch from "windowEndsAt" - now())), 1)::int as "secondsLeft"
		)`;
		names.push(name);
	});
	const counted = names
		.map((name, i) => sql`select ${i} as step, c.* from ${sql(name)} c`)
		.reduce((all, one) => sql`${all} union all ${one}`);
	return sql`${ctes}, counted as (${counted})`;
}

/** A `counted` row as json_agg hands it back. */
export type CountedRow = {
	key: string;
	attempts: number;
	maxAttempts: number;
	windowEndsAt: string | Date;
	secondsLeft: number;
};

/** The verdict from the rows `counted` returned: the first key over its limit refuses. */
export function verdictOf(steps: CountStep[], rows: CountedRow[]): Verdict {
	const rules = steps.flatMap(rulesOf);
	for (const row of rows) {
		if (row.attempts > row.maxAttempts) {
			return {
				allowed: false,
				key: row.key,
				scope: rules.find((r) => r.key === row.key)?.scope,
				retryAfterSeconds: row.secondsLeft,
				windowEndsAt: new Date(row.windowEndsAt)
			};
		}
	}
	return { allowed: true };
}

/**
 * Counts one attempt against each rule, in order, and says whether it may go ahead. Atomic per
 * key: the count that decides is the one this statement wrote. One round trip.
 */
export async function checkAndCount(rules: ThrottleRule[]): Promise<Verdict> {
	if (!rules.length) return { allowed: true };
	const rows = await sql<CountedRow[]>`
		with ${countingCtes(rules)}
		select key, attempts, "maxAttempts", "windowEndsAt", "secondsLeft" from counted order by step
	`;
	return verdictOf(rules, rows);
}

/** Forgets keys entirely (a successful check, an admin's decision). */
export async function clear(keys: string[]) {
	if (keys.length) await sql`delete from "Throttle" where key in ${sql(keys)}`;
}

/**
 * After the secret was right: the keys naming this client and account together are cleared, and
 * the attempt counted on the address and account keys is given back (a stranger's failures there
 * stay counted).
 */
export async function secretCheckSucceeded(rules: ThrottleRule[]) {
	const [clearing, givingBack] = successWrites(rules);
	// One round trip: this runs on every successful secret check.
	await sql`with cleared as (${clearing}) ${givingBack}`;
}

/** secretCheckSucceeded's two writes, for a statement that does more (a sign-in, sign-in.ts). */
export function successWrites(rules: ThrottleRule[]): postgres.Fragment[] {
	const narrow = rules.filter((r) => r.scope === 'pair' || r.scope === 'device').map((r) => r.key);
	const wide = rules.map((r) => r.key).filter((key) => !narrow.includes(key));
	return [
		sql`delete from "Throttle" where key = any(${narrow}::text[])`,
		sql`
			update "Throttle" set attempts = attempts - 1
			where key = any(${wide}::text[]) and attempts > 0 and "windowEndsAt" > now()`
	];
}

export type ActiveThrottle = {
	key: string;
	kind: string;
	attempts: number;
	maxAttempts: number;
	/** When the key's window ends and attempts are allowed again. */
	liftsAt: Date;
};

/** Keys currently refusing attempts, soonest to lift first (for Settings → Security). */
export async function listActiveThrottles(): Promise<ActiveThrottle[]> {
	return sql<ActiveThrottle[]>`
		select key, kind, attempts, "maxAttempts", "windowEndsAt" as "liftsAt"
		from "Throttle"
		where attempts >= "maxAttempts" and "windowEndsAt" > now()
		order by "windowEndsAt", key
	`;
}

/** Lifts one key at once (Settings → Security). True when there was something to clear. */
export async function clearThrottle(key: string): Promise<boolean> {
	const rows = await sql`delete from "Throttle" where key = ${key} returning key`;
	return rows.length > 0;
}

/** How a secret check that did not pass comes back: the status to answer with and the words. */
export type SecretRefusal = { ok: false; status: 400 | 429; message: string };

/** What the user tried, in the words of a refusal ("Too many wrong codes."). */
const SECRET_NAMES: Record<SecretKind, string> = {
	password: 'passwords',
	'current-password': 'current passwords',
	totp: 'codes',
	'recovery-code': 'recovery codes'
};

/** The one refusal of a throttled secret check. */
export function throttledText(kind: SecretKind, retryAfterSeconds: number): string {
	return `Too many wrong ${SECRET_NAMES[kind]}. Try again in ${minutesText(retryAfterSeconds)}.`;
}

/** Who checks a secret, for the keys and for the audit row a refusal leaves. */
export type SecretChecker = Attempter & {
	userId: number | null;
	/** The audit event of a refused attempt, and what it records beside the key. */
	refusedEvent: string;
	method?: string;
	detail?: Record<string, string | number | boolean | null>;
};

/**
 * Every throttled secret check in one shape: count the attempt on the kind's keys (one round
 * trip); when refused, answer 429 with Retry-After and leave one audit row per key and window;
 * otherwise `verify` (null or false: wrong, answered 400 with `wrong`); when right, give back
 * what was counted. Returns what `verify` returned.
 */
export async function checkSecret<T>(
	event: { setHeaders: (headers: Record<string, string>) => void },
	kind: SecretKind,
	who: SecretChecker,
	verify: () => Promise<T | null | false>,
	wrong: string
): Promise<{ ok: true; value: T } | SecretRefusal> {
	const rules = secretCheckRules(kind, who);
	const verdict = await checkAndCount(rules);
	if (!verdict.allowed) {
		event.setHeaders({ 'retry-after': String(verdict.retryAfterSeconds) });
		await auditRepeated({
			event: who.refusedEvent,
			userId: who.userId,
			method: who.method,
			ip: who.ip,
			detail: { ...who.detail, key: verdict.key },
			collapseKey: `${verdict.key}@${verdict.windowEndsAt.toISOString()}`
		});
		return { ok: false, status: 429, message: throttledText(kind, verdict.retryAfterSeconds) };
	}
	const value = await verify();
	if (value === null || value === false) return { ok: false, status: 400, message: wrong };
	await secretCheckSucceeded(rules);
	return { ok: true, value };
}

/** "Try again in N minutes." for a refusal. */
export function minutesText(seconds: number): string {
	const minutes = Math.max(1, Math.ceil(seconds / 60));
	return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}
