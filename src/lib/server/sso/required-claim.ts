// "Required claim": a sign-in rule on what the identity provider says about the person. Pure
// code, no database: reading a claim by its path, deciding whether it holds an accepted value,
// and the words of a refusal. Any mode whose identity comes with claims uses it (OIDC today; a
// signed assertion from a proxy would hand its payload to the same functions).
//
// Model: the claims are the provider's words, and hostile until read. A claim is found by an exact
// top-level name first (`https://example.com/roles`), else by a dot path through plain objects
// (`realm_access.roles`), never through arrays or inherited properties. Its value counts as a
// list of strings: an array (its strings, numbers and booleans; other items are skipped), a
// string split on spaces and commas, or one number or boolean. Everything read is bounded: the
// path's depth, the items of an array, the length of a string, the length of a value. Values are
// compared exactly (group ids and role names are case-sensitive at most providers). Entra ID
// leaves the groups out of a token when there are too many ("overage": `_claim_names` names the
// claim, or `hasgroups: true`); that is a refusal that says so, not a silent miss.

/** The rule as stored: no rule when `path` is empty. */
export type RequiredClaim = { path: string; values: string[] };

export const NO_RULE: RequiredClaim = { path: '', values: [] };

/** Bounds of the rule itself (the form checks them; the database checks them again). */
export const RULE_LIMITS = { pathLength: 200, depth: 5, values: 50, valueLength: 200 } as const;

/** Bounds of what is read from a claim. */
export const READ_LIMITS = { items: 200, stringLength: 8192 } as const;

/** Whether a rule is set. */
export function ruleSet(rule: RequiredClaim | null | undefined): rule is RequiredClaim {
	return !!rule && rule.path !== '';
}

const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Why a claim path cannot be used, or null when it can. */
export function pathProblem(path: string): string | null {
	if (path.length > RULE_LIMITS.pathLength)
		return `The claim path is longer than ${RULE_LIMITS.pathLength} characters.`;
	if (/\s/.test(path) || CONTROL.test(path)) return 'The claim path cannot contain spaces.';
	const segments = path.split('.');
	if (segments.some((s) => s === ''))
		return 'The claim path has an empty part: write it as names joined by dots, such as realm_access.roles.';
	if (segments.length > RULE_LIMITS.depth)
		return `The claim path is deeper than ${RULE_LIMITS.depth} levels.`;
	return null;
}

/** Why an accepted value cannot be used, or null when it can. */
export function valueProblem(value: string): string | null {
	if (value.length > RULE_LIMITS.valueLength)
		return `An accepted value is longer than ${RULE_LIMITS.valueLength} characters.`;
	if (CONTROL.test(value)) return 'An accepted value contains a control character.';
	return null;
}

export type ClaimReading =
	| { kind: 'values'; values: string[]; skipped: number; truncated: boolean }
	| { kind: 'missing' }
	| { kind: 'overage' }
	| { kind: 'unreadable'; what: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The raw value at `path`, or undefined: an exact top-level name first, then the dot path. */
function lookUp(claims: Record<string, unknown>, path: string): unknown {
	if (Object.hasOwn(claims, path)) return claims[path];
	let here: unknown = claims;
	for (const segment of path.split('.').slice(0, RULE_LIMITS.depth)) {
		if (!isPlainObject(here) || !Object.hasOwn(here, segment)) return undefined;
		here = here[segment];
	}
	return here;
}

/** Entra ID's group overage: the claim was left out and is to be fetched elsewhere. */
function overage(claims: Record<string, unknown>, path: string): boolean {
	const names = claims._claim_names;
	const top = path.split('.')[0];
	if (isPlainObject(names) && (Object.hasOwn(names, path) || Object.hasOwn(names, top)))
		return true;
	return top === 'groups' && (claims.hasgroups === true || claims.hasgroups === 'true');
}

function scalar(value: unknown): string | null {
	if (typeof value === 'string') return value.trim();
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	if (typeof value === 'boolean') return String(value);
	return null;
}

/** What the claim at `path` holds, read within READ_LIMITS. */
export function readClaim(claims: Record<string, unknown>, path: string): ClaimReading {
	const raw = lookUp(claims, path);
	if (raw === undefined) return overage(claims, path) ? { kind: 'overage' } : { kind: 'missing' };
	if (Array.isArray(raw)) {
		const values: string[] = [];
		let skipped = 0;
		const items = raw.length > READ_LIMITS.items ? raw.slice(0, READ_LIMITS.items) : raw;
		for (const item of items) {
			const value = scalar(item);
			if (value) values.push(value);
			else skipped++;
		}
		return { kind: 'values', values, skipped, truncated: raw.length > READ_LIMITS.items };
	}
	if (typeof raw === 'string') {
		const text = raw.slice(0, READ_LIMITS.stringLength);
		const all = text.split(/[\s,]+/).filter(Boolean);
		return {
			kind: 'values',
			values: all.slice(0, READ_LIMITS.items),
			skipped: 0,
			truncated: raw.length > READ_LIMITS.stringLength || all.length > READ_LIMITS.items
		};
	}
	const single = scalar(raw);
	if (single !== null) return { kind: 'values', values: [single], skipped: 0, truncated: false };
	return { kind: 'unreadable', what: raw === null ? 'null' : 'an object' };
}

export type ClaimVerdict =
	| { ok: true }
	| {
			ok: false;
			reason: 'missing' | 'overage' | 'not_accepted' | 'unreadable';
			/** The claim's path, for the words. */
			claim: string;
			/** What the claim held, shortened for a log line or a page. */
			held: string;
	  };

/** Whether `claims` satisfy `rule`. No rule: always. */
export function checkClaims(
	rule: RequiredClaim | null,
	claims: Record<string, unknown>
): ClaimVerdict {
	if (!ruleSet(rule)) return { ok: true };
	const claim = rule.path;
	const reading = readClaim(claims, claim);
	if (reading.kind === 'missing') return { ok: false, reason: 'missing', claim, held: 'nothing' };
	if (reading.kind === 'overage')
		return { ok: false, reason: 'overage', claim, held: 'nothing (group overage)' };
	if (reading.kind === 'unreadable')
		return { ok: false, reason: 'unreadable', claim, held: reading.what };
	const accepted = new Set(rule.values);
	if (reading.values.some((v) => accepted.has(v))) return { ok: true };
	return { ok: false, reason: 'not_accepted', claim, held: shortList(reading) };
}

/** At most this many values are named, each cut to HELD_VALUE characters. */
const HELD_VALUES = 5;
const HELD_VALUE = 40;

function printable(value: string) {
	const clean = value.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ');
	return clean.length > HELD_VALUE ? `${clean.slice(0, HELD_VALUE - 1)}…` : clean;
}

/** The values read, as a short quoted list ("staff", "users" and 3 more). */
function shortList(reading: Extract<ClaimReading, { kind: 'values' }>) {
	const { values } = reading;
	if (!values.length) return reading.skipped ? 'no text values' : 'an empty list';
	const named = values.slice(0, HELD_VALUES).map((v) => `“${printable(v)}”`);
	const more = values.length - named.length + (reading.truncated ? 1 : 0);
	if (more <= 0) return named.join(', ');
	return `${named.join(', ')} and ${reading.truncated ? 'more' : `${more} more`}`;
}

/** One sentence that says why the claims do not satisfy the rule. */
export function refusalWords(verdict: Extract<ClaimVerdict, { ok: false }>): string {
	const claim = `“${printable(verdict.claim)}”`;
	switch (verdict.reason) {
		case 'missing':
			return `The provider sent no ${claim} claim.`;
		case 'overage':
			return `The provider left the ${claim} claim out because the account is in too many groups (Entra ID group overage): have it send only the groups assigned to the application, or use app roles.`;
		case 'unreadable':
			return `The ${claim} claim held ${verdict.held}, not a value or a list of values.`;
		case 'not_accepted':
			return `The ${claim} claim held ${verdict.held}, none of them an accepted value.`;
	}
}

/** Claims that say nothing about the person: not kept (claims-seen.ts). */
const BOOKKEEPING = new Set([
	'iss',
	'aud',
	'exp',
	'iat',
	'nbf',
	'jti',
	'nonce',
	'at_hash',
	'c_hash',
	's_hash',
	'sid',
	'azp',
	'auth_time',
	'_claim_sources'
]);

/** Bounds of the copy that is kept of someone's claims (claims-seen.ts). */
export const KEEP_LIMITS = { keys: 64, bytes: 32_768 } as const;

/**
 * A bounded copy of `claims`, such that the rule reads the same from it as from the original for
 * any path within RULE_LIMITS: bookkeeping claims out, depth and arrays and strings cut where
 * reading stops anyway, at most KEEP_LIMITS.keys entries per object; and when the copy would
 * still be larger than KEEP_LIMITS.bytes, the largest top-level claims are left out (named in
 * `dropped`).
 */
export function keepClaims(claims: Record<string, unknown>): {
	claims: Record<string, unknown>;
	dropped: string[];
} {
	const copy = (value: unknown, depth: number): unknown => {
		// One more than is read, so that the copy too reads as cut.
		if (typeof value === 'string') return value.slice(0, READ_LIMITS.stringLength + 1);
		if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
		if (Array.isArray(value))
			// Arrays are read one level only: an item that is an object or list is skipped anyway.
			return value
				.slice(0, READ_LIMITS.items + 1)
				.map((item) => (item !== null && typeof item === 'object' ? {} : copy(item, depth + 1)));
		if (isPlainObject(value)) {
			// Deeper than a path can go: read as "an object" either way.
			if (depth >= RULE_LIMITS.depth) return {};
			const out: Record<string, unknown> = {};
			for (const key of Object.keys(value).slice(0, KEEP_LIMITS.keys))
				out[key] = copy(value[key], depth + 1);
			return out;
		}
		return null;
	};
	const entries = Object.keys(claims)
		.filter((k) => !BOOKKEEPING.has(k))
		.slice(0, KEEP_LIMITS.keys)
		.map((k) => {
			const value = copy(claims[k], 1);
			return { k, value, size: k.length + JSON.stringify(value).length + 4 };
		});
	const dropped: string[] = [];
	let total = entries.reduce((n, e) => n + e.size, 0);
	for (const e of [...entries].sort((a, b) => b.size - a.size)) {
		if (total <= KEEP_LIMITS.bytes) break;
		dropped.push(e.k);
		total -= e.size;
	}
	const kept = Object.fromEntries(
		entries.filter((e) => !dropped.includes(e.k)).map((e) => [e.k, e.value])
	);
	return { claims: kept, dropped };
}
