// The known-device cookie (OWASP's "device cookie" defence against lock-out attacks).
//
// A browser that has signed in to an account gets a long-lived, signed, HttpOnly cookie naming
// that account and a random device id. When it later tries the password again, the throttle
// counts it under its own device key instead of the account-wide key that strangers fill, so
// guesses from elsewhere cannot lock the owner out of their own browser (throttle.ts).
//
// The cookie is only a hint for throttling, never a credential: it signs nobody in and skips no
// check. It is signed with HMAC-SHA256 under a key derived from the instance key, so a forged or
// altered cookie (another account, another device id, a later date) is simply not known. Losing
// the instance key makes every device unknown again, which is safe.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Cookies } from '@sveltejs/kit';
import { derivedKey } from '../crypto';

export const DEVICE_COOKIE = 'librariarr_device';
const LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;
/** Only the login pages ever read it. */
const COOKIE_PATH = '/login';

let signingKey: Buffer | null = null;

function mac(payload: string): Buffer {
	signingKey ??= derivedKey('known-device-cookie');
	return createHmac('sha256', signingKey).update(payload).digest();
}

function payloadOf(deviceId: string, userId: number, issuedAt: number) {
	return `v1.${deviceId}.${userId}.${issuedAt}`;
}

/** Sets (or renews) this browser's known-device cookie for the user who just signed in. */
export function rememberDevice(
	cookies: Cookies,
	userId: number,
	secure: boolean,
	now = Date.now()
): string {
	const deviceId =
		knownDeviceAnyUser(cookies, now)?.deviceId ?? randomBytes(16).toString('base64url');
	const issuedAt = Math.floor(now / 1000);
	const payload = payloadOf(deviceId, userId, issuedAt);
	cookies.set(DEVICE_COOKIE, `${payload}.${mac(payload).toString('base64url')}`, {
		httpOnly: true,
		sameSite: 'lax',
		path: COOKIE_PATH,
		secure,
		maxAge: LIFETIME_MS / 1000
	});
	return deviceId;
}

/**
 * The account and device id a valid known-device cookie names, whoever is signing in (a sign-in
 * that reads the account in SQL decides there whether the cookie is that account's).
 */
export function knownDeviceAnyUser(cookies: Cookies, now = Date.now()) {
	const value = cookies.get(DEVICE_COOKIE);
	if (!value || value.length > 200) return null;
	const match = /^v1\.([A-Za-z0-9_-]{22})\.(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(
		value
	);
	if (!match) return null;
	const [, deviceId, userText, issuedText, macText] = match;
	const userId = Number(userText);
	const issuedAt = Number(issuedText);
	const expected = mac(payloadOf(deviceId, userId, issuedAt));
	const given = Buffer.from(macText, 'base64url');
	if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
	const age = now - issuedAt * 1000;
	if (age < -60_000 || age > LIFETIME_MS) return null;
	return { deviceId, userId };
}

/** The device id when this browser holds a valid known-device cookie for `userId`, else null. */
export function knownDevice(
	cookies: Cookies,
	userId: number | null | undefined,
	now = Date.now()
): string | null {
	if (userId === null || userId === undefined) return null;
	const found = knownDeviceAnyUser(cookies, now);
	return found && found.userId === userId ? found.deviceId : null;
}
