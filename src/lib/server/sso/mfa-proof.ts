// "Require two-factor for SSO sign-ins": does what the provider signed prove a second factor,
// recently? Pure code, no database. OIDC hands it the ID token's claims; a signed assertion from
// a proxy would hand its payload to the same function.
//
// Model: the claims are the provider's words, hostile until read. Proof is `amr` holding one of
// the accepted methods (RFC 8176 names: mfa, otp, hwk, swk, fpt, sms, …), or `acr` being one of
// the accepted levels, AND `auth_time` (seconds since 1970) no older than the allowed age: a
// provider session that proved MFA weeks ago proves nothing about today. `auth_time` missing,
// not a finite number, or in the future beyond the clock tolerance is no proof. Only the first
// AMR_ITEMS entries of `amr` are read, and only strings of at most VALUE_LENGTH count.

export type MfaSetting = {
	required: boolean;
	/** `amr` values that count as proof. */
	amr: string[];
	/** `acr` values that count as proof (empty: none). */
	acr: string[];
	maxAgeMinutes: number;
};

export const DEFAULT_AMR = ['mfa', 'otp', 'hwk', 'swk', 'fpt', 'sms'] as const;

/**
 * Twelve hours: one working day. Long enough that a provider session begun this morning still
 * counts, short enough that the factor was shown today, and near the session lengths providers
 * ship (Keycloak's SSO Session Max is 10 hours).
 */
export const DEFAULT_MAX_AGE_MINUTES = 720;

export const MFA_OFF: MfaSetting = {
	required: false,
	amr: [...DEFAULT_AMR],
	acr: [],
	maxAgeMinutes: DEFAULT_MAX_AGE_MINUTES
};

/** Bounds of the setting (the form checks them; the database checks them again). */
export const MFA_LIMITS = {
	values: 20,
	valueLength: 100,
	minAgeMinutes: 5,
	maxAgeMinutes: 43200
} as const;

/** Bounds of what is read from the claims. */
export const AMR_ITEMS = 50;
const VALUE_LENGTH = 200;
/** Seconds an `auth_time` may lie ahead of this server's clock (the ID token's own tolerance). */
export const CLOCK_TOLERANCE_SECONDS = 60;

export type MfaVerdict =
	| { proved: true; by: { amr: string } | { acr: string } }
	| {
			proved: false;
			reason: 'no-method' | 'no-auth-time' | 'auth-time-future' | 'stale';
			/** What the token said, bounded, for the log and the audit row. */
			amr: string[];
			acr: string | null;
			ageMinutes: number | null;
	  };

/** An own property only: a claim never comes from a prototype. */
function own(claims: Record<string, unknown>, name: string): unknown {
	return Object.hasOwn(claims, name) ? claims[name] : undefined;
}

function readAmr(value: unknown): string[] {
	if (!Array.isArray(value)) return [];
	const out: string[] = [];
	for (const item of value.slice(0, AMR_ITEMS))
		if (typeof item === 'string' && item.length > 0 && item.length <= VALUE_LENGTH) out.push(item);
	return out;
}

function readAcr(value: unknown): string | null {
	return typeof value === 'string' && value.length > 0 && value.length <= VALUE_LENGTH
		? value
		: null;
}

/** Whether `claims` prove MFA under `setting`, at `nowMs`. */
export function mfaProof(
	setting: Pick<MfaSetting, 'amr' | 'acr' | 'maxAgeMinutes'>,
	claims: Record<string, unknown>,
	nowMs: number
): MfaVerdict {
	const amr = readAmr(own(claims, 'amr'));
	const acr = readAcr(own(claims, 'acr'));
	const authTime = own(claims, 'auth_time');
	const nowSeconds = nowMs / 1000;
	const ageMinutes =
		typeof authTime === 'number' && Number.isFinite(authTime)
			? Math.floor((nowSeconds - authTime) / 60)
			: null;
	const refused = (reason: Extract<MfaVerdict, { proved: false }>['reason']) =>
		({ proved: false, reason, amr, acr, ageMinutes }) as const;
	const byAmr = amr.find((m) => setting.amr.includes(m));
	const byAcr = acr !== null && setting.acr.includes(acr) ? acr : undefined;
	if (byAmr === undefined && byAcr === undefined) return refused('no-method');
	if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return refused('no-auth-time');
	if (authTime > nowSeconds + CLOCK_TOLERANCE_SECONDS) return refused('auth-time-future');
	if (nowSeconds - authTime > setting.maxAgeMinutes * 60) return refused('stale');
	return { proved: true, by: byAmr !== undefined ? { amr: byAmr } : { acr: byAcr! } };
}

/** Whether `claims` name a second factor at all (the lock-out check: age does not matter then). */
export function mfaMethodShown(
	setting: Pick<MfaSetting, 'amr' | 'acr'>,
	claims: Record<string, unknown>
): boolean {
	const acr = readAcr(own(claims, 'acr'));
	return (
		readAmr(own(claims, 'amr')).some((m) => setting.amr.includes(m)) ||
		(acr !== null && setting.acr.includes(acr))
	);
}

/** A provider's value as words may show it: short, control characters escaped. */
function shown(value: string) {
	const cut = value.length > 40 ? `${value.slice(0, 40)}…` : value;
	return cut.replace(
		/[\p{Cc}\p{Cf}]/gu,
		(c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`
	);
}

/** The words of a verdict that is no proof, for the log, the audit row and the history. */
export function noProofWords(verdict: Extract<MfaVerdict, { proved: false }>): string {
	switch (verdict.reason) {
		case 'no-method':
			return verdict.amr.length === 0 && verdict.acr === null
				? 'the ID token says nothing about how the person signed in (no amr or acr)'
				: `the ID token's amr [${verdict.amr.slice(0, 10).map(shown).join(', ')}${verdict.amr.length > 10 ? ', …' : ''}]${verdict.acr ? ` and acr "${shown(verdict.acr)}"` : ''} name no accepted second factor`;
		case 'no-auth-time':
			return 'the ID token has no usable auth_time, so the age of the proof is unknown';
		case 'auth-time-future':
			return "the ID token's auth_time lies in the future";
		case 'stale':
			return `the provider's sign-in was ${verdict.ageMinutes} minutes ago, longer than allowed`;
	}
}

/** Why an accepted amr or acr value cannot be used, or null when it can. */
export function mfaValueProblem(value: string): string | null {
	if (value.length > MFA_LIMITS.valueLength)
		return `A value is longer than ${MFA_LIMITS.valueLength} characters.`;
	if (/[\s\p{Cc}\p{Cf}]/u.test(value))
		return 'A value cannot contain spaces or control characters.';
	return null;
}
