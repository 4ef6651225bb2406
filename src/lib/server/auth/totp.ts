// TOTP (RFC 6238) as a second step after the password: 30-second steps, 6 digits, SHA-1, which
// every authenticator app understands. Codes are computed and compared by @oslojs/otp.
//
// Model. The secret is 20 random bytes, sealed at rest with the app key (crypto.ts), like the
// OIDC client secret; a database dump alone does not give it away. A code is accepted for the
// current step or one step either side (clocks drift), and only for a step later than the last
// one accepted: the update that records the step is also the check (`acceptTotpCode`), so two
// requests carrying the same code, however close together, get one acceptance between them.
//
// Turning TOTP on is two requests: `beginTotpEnrollment` stores a new secret as pending (shown as
// a QR code and as text), and `confirmTotpEnrollment` moves it into place only after a correct
// code from it. Turning it off (`disableTotp`) is for the caller to guard (password and a code).
// Both run in one transaction that locks the "AppSettings" row, like every auth state change;
// neither changes an input of the one rule (rule/ways-in.ts): TOTP adds a step to the password,
// it is not a way in of its own and never removes one.
import { randomBytes } from 'node:crypto';
import { decodeBase32IgnorePadding, encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { createTOTPKeyURI, verifyHOTP } from '@oslojs/otp';
import { renderSVG } from 'uqr';
import { sql } from '../db';
import { open, seal } from '../crypto';
import { factorLossLocksOut } from '../sso/mfa';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const SECRET_BYTES = 20;
const ISSUER = 'Librariarr';

/** The digits of a code as typed: spaces and dashes dropped; null unless exactly six digits. */
export function normaliseTotpCode(input: string): string | null {
	const code = input.replace(/[\s-]/g, '');
	return /^\d{6}$/.test(code) ? code : null;
}

/** The step `nowMs` falls in. */
export function stepAt(nowMs: number): bigint {
	return BigInt(Math.floor(nowMs / (TOTP_PERIOD_SECONDS * 1000)));
}

/**
 * The step (current, one before or one after) whose code `code` is, or null. Checked in that
 * order, so a code valid for two steps (1 in a million) counts as the earlier one.
 */
export function matchingStep(key: Uint8Array, code: string, nowMs = Date.now()): bigint | null {
	const now = stepAt(nowMs);
	for (const step of [now - 1n, now, now + 1n]) {
		if (verifyHOTP(key, step, TOTP_DIGITS, code)) return step;
	}
	return null;
}

/** A new secret, as base32 text (what the admin may type into an app by hand). */
export function newTotpSecret(): string {
	return encodeBase32UpperCaseNoPadding(randomBytes(SECRET_BYTES));
}

function keyOf(secret: string): Uint8Array {
	return decodeBase32IgnorePadding(secret);
}

/**
 * The step `code` names for a stored (sealed) secret, when it is later than the last step used;
 * null otherwise. Pure: the caller records the step, only if it is still later (atomically).
 */
export function unusedStepOf(
	sealedSecret: string | null,
	lastStep: string | null,
	code: string
): bigint | null {
	const secret = open(sealedSecret);
	const digits = normaliseTotpCode(code);
	if (!secret || digits === null) return null;
	const step = matchingStep(keyOf(secret), digits);
	return step !== null && (lastStep === null || step > BigInt(lastStep)) ? step : null;
}

/** The secret in groups of four, easier to read and type. */
export function groupedSecret(secret: string): string {
	return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/** The otpauth:// URI authenticator apps read, and the same as a QR code (SVG, made here). */
export function enrollmentView(secret: string, accountName: string) {
	const uri = createTOTPKeyURI(
		ISSUER,
		accountName,
		keyOf(secret),
		TOTP_PERIOD_SECONDS,
		TOTP_DIGITS
	);
	return { uri, qrSvg: renderSVG(uri, { border: 2, ecc: 'M' }), secretText: groupedSecret(secret) };
}

export type TotpState = {
	enabled: boolean;
	enabledAt: Date | null;
	/** The secret being enrolled (base32), or null. */
	pendingSecret: string | null;
};

export async function getTotpState(userId: number): Promise<TotpState> {
	const [row] = await sql<
		{ totpSecret: string | null; totpPendingSecret: string | null; totpEnabledAt: Date | null }[]
	>`
		select "totpSecret", "totpPendingSecret", "totpEnabledAt" from "User" where id = ${userId}
	`;
	return {
		enabled: Boolean(row?.totpSecret),
		enabledAt: row?.totpEnabledAt ?? null,
		pendingSecret: open(row?.totpPendingSecret)
	};
}

/** Stores a fresh pending secret (replacing any earlier one) and returns it. */
export async function beginTotpEnrollment(userId: number): Promise<string> {
	const secret = newTotpSecret();
	await sql.begin(async (tx) => {
		await tx`select 1 from "AppSettings" where id = 1 for update`;
		await tx`update "User" set "totpPendingSecret" = ${seal(secret)} where id = ${userId}`;
	});
	return secret;
}

export type EnrollmentResult = 'enabled' | 'no-pending' | 'wrong-code';

/** Turns TOTP on with the pending secret, if `code` is a current code of it. */
export async function confirmTotpEnrollment(
	userId: number,
	code: string
): Promise<EnrollmentResult> {
	return sql.begin(async (tx) => {
		await tx`select 1 from "AppSettings" where id = 1 for update`;
		const [row] = await tx<{ totpPendingSecret: string | null }[]>`
			select "totpPendingSecret" from "User" where id = ${userId} for update
		`;
		const secret = open(row?.totpPendingSecret);
		if (!secret) return 'no-pending';
		const step = matchingStep(keyOf(secret), code);
		if (step === null) return 'wrong-code';
		await tx`
			update "User" set "totpSecret" = ${row.totpPendingSecret}, "totpPendingSecret" = null,
				"totpEnabledAt" = now(), "totpLastStep" = ${step.toString()}, "updatedAt" = now()
			where id = ${userId}
		`;
		return 'enabled';
	});
}

/**
 * Accepts `code` for the user when it is the code of a step later than the last one accepted,
 * and records that step, in one statement: of two requests racing with the same code, the second
 * finds the step already taken (the row lock makes it re-read the row) and is refused.
 */
export async function acceptTotpCode(userId: number, code: string): Promise<boolean> {
	const [row] = await sql<{ totpSecret: string | null }[]>`
		select "totpSecret" from "User" where id = ${userId}
	`;
	const secret = open(row?.totpSecret);
	if (!secret) return false;
	const step = matchingStep(keyOf(secret), code);
	if (step === null) return false;
	const accepted = await sql`
		update "User" set "totpLastStep" = ${step.toString()}
		where id = ${userId} and "totpSecret" = ${row.totpSecret}
			and ("totpLastStep" is null or "totpLastStep" < ${step.toString()})
		returning id
	`;
	return accepted.length === 1;
}

/**
 * Turns TOTP off (the caller has checked the password and a code). True when it was on;
 * 'sso-mfa-lock-out' when it stays on because "Require two-factor for SSO sign-ins" would then
 * refuse the user's SSO sign-ins (sso/mfa.ts).
 */
export async function disableTotp(
	userId: number,
	rpId: string
): Promise<boolean | 'sso-mfa-lock-out'> {
	return sql.begin(async (tx) => {
		await tx`select 1 from "AppSettings" where id = 1 for update`;
		if (await factorLossLocksOut(tx, userId, rpId, 'totp')) return 'sso-mfa-lock-out' as const;
		const rows = await tx`
			update "User" set "totpSecret" = null, "totpPendingSecret" = null, "totpEnabledAt" = null,
				"totpLastStep" = null, "updatedAt" = now()
			where id = ${userId} and "totpSecret" is not null
			returning id
		`;
		return rows.length === 1;
	});
}
