// Sign-ins in progress live in the browser that started them, not in the database.
//
// Model. Starting an OIDC, Plex or passkey sign-in (or adding a passkey) seals what the finish
// will need (the OIDC state, nonce, PKCE verifier, return path and purpose; the Plex PIN and its
// binding; the WebAuthn challenge) into one cookie per flow kind: AES-256-GCM under a key derived
// (HKDF) from the instance key, the kind bound in as additional data, the expiry inside the sealed
// data. The cookie is HttpOnly and SameSite=Lax (the provider sends the browser back with a
// top-level GET, which carries Lax cookies), lives as long as the flow and is sent only to the
// paths that finish it.
//
// Why. Anyone can start a sign-in, so starts that wrote rows had to be capped, and caps can be
// filled by strangers to stop everybody's sign-ins. A start now writes nothing anywhere, so there
// is nothing to fill: a stranger's starts live in the stranger's browser. A second start of the
// same kind in the same browser replaces the first (the cookie holds one); other kinds are not
// touched. Every instance holds the key, so any instance finishes what another started.
//
// A cookie that does not open (tampered, another kind's, another instance key's, or a format from
// another version), has expired, or names another flow than the request, reads as "no flow": the
// caller's existing refusal, never a 500. Single use is kept by used-flows.ts, which records a
// flow only once it has been *used* (the provider, Plex or the authenticator proved it).
//
// Bounded by construction: the payloads are short fixed fields plus a return path of at most
// MAX_RETURN_TO_LENGTH characters, so a cookie stays under MAX_COOKIE_LENGTH (< 4 KB); anything
// longer is refused before it is set.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Cookies } from '@sveltejs/kit';
import { derivedKey } from '../crypto';

export type Purpose = 'login' | 'link' | 'setup';

export type FlowData = {
	oidc: {
		purpose: 'login' | 'link';
		state: string;
		nonce: string;
		codeVerifier: string;
		returnTo: string | null;
		userId: number | null;
	};
	plex: {
		/** Names the flow in the callback URL (`?tx=`), so that a callback for another one is refused. */
		id: string;
		purpose: Purpose;
		plexPinId: string;
		plexPinCode: string;
		returnTo: string | null;
		userId: number | null;
	};
	passkey: { challenge: string; rpId: string; origin: string };
	/** A passkey assertion as step-up proof (step-up.ts), bound to the user and session asking. */
	'passkey-step-up': {
		challenge: string;
		rpId: string;
		origin: string;
		userId: number;
		sessionId: string;
	};
	'passkey-register': {
		challenge: string;
		rpId: string;
		origin: string;
		userId: number;
		sessionId: string;
	};
};
export type FlowKind = keyof FlowData;
export type Flow<K extends FlowKind> = FlowData[K] & { expiresAt: Date };

export const FLOW_LIFETIME_MS: Record<FlowKind, number> = {
	oidc: 10 * 60 * 1000,
	plex: 10 * 60 * 1000,
	passkey: 5 * 60 * 1000,
	'passkey-step-up': 5 * 60 * 1000,
	'passkey-register': 5 * 60 * 1000
};

/** Only the requests that finish a flow carry its cookie. */
const COOKIE_PATH: Record<FlowKind, string> = {
	oidc: '/api/auth/sso/oidc',
	plex: '/api/auth/plex',
	passkey: '/api/auth/passkey',
	// Step-up proofs are sent with settings forms and with the Plex link start (/api/auth/plex).
	'passkey-step-up': '/',
	'passkey-register': '/settings/security/passkeys'
};

/** Browsers keep cookies up to 4096 bytes (name, value and attributes); stay well inside. */
export const MAX_COOKIE_LENGTH = 3800;
const FORMAT = 'v1';

export const flowCookieName = (kind: FlowKind) => `librariarr_${kind.replace('-', '_')}_tx`;

let cachedKey: Buffer | null = null;
const key = () => (cachedKey ??= derivedKey('sign-in-flow-cookie'));
const additionalData = (kind: FlowKind) => Buffer.from(`librariarr:flow:${FORMAT}:${kind}`);

/** The cookie value for a flow: base64url of IV, tag and ciphertext. Exported for tests. */
export function sealFlow<K extends FlowKind>(
	kind: K,
	data: FlowData[K],
	expiresAt: number,
	k: Buffer = key()
): string {
	const iv = randomBytes(12);
	const cipher = createCipheriv('aes-256-gcm', k, iv);
	cipher.setAAD(additionalData(kind));
	const body = Buffer.concat([
		cipher.update(JSON.stringify({ exp: expiresAt, data }), 'utf8'),
		cipher.final()
	]);
	return `${FORMAT}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/** The flow a cookie value holds, or null when it does not open or has expired. */
export function openFlow<K extends FlowKind>(
	kind: K,
	value: string | undefined,
	now = Date.now(),
	k: Buffer = key()
): Flow<K> | null {
	if (!value || value.length > MAX_COOKIE_LENGTH || !value.startsWith(`${FORMAT}.`)) return null;
	const encoded = value.slice(FORMAT.length + 1);
	const raw = Buffer.from(encoded, 'base64url');
	// Node's decoder skips what is not base64url; accept only the exact encoding this module makes.
	if (raw.length < 12 + 16 + 1 || raw.toString('base64url') !== encoded) return null;
	let parsed: unknown;
	try {
		const decipher = createDecipheriv('aes-256-gcm', k, raw.subarray(0, 12));
		decipher.setAAD(additionalData(kind));
		decipher.setAuthTag(raw.subarray(12, 28));
		const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
		parsed = JSON.parse(text.toString('utf8'));
	} catch {
		return null;
	}
	if (typeof parsed !== 'object' || parsed === null) return null;
	const { exp, data } = parsed as { exp?: unknown; data?: unknown };
	if (typeof exp !== 'number' || exp <= now || typeof data !== 'object' || data === null) {
		return null;
	}
	return { ...(data as FlowData[K]), expiresAt: new Date(exp) };
}

function cookieOptions(kind: FlowKind, secure: boolean) {
	return { path: COOKIE_PATH[kind], httpOnly: true, sameSite: 'lax', secure } as const;
}

/**
 * Starts a flow in this browser: the sealed cookie, replacing any earlier flow of the same kind.
 * Writes nothing else. Returns when it ends.
 */
export function startFlow<K extends FlowKind>(
	cookies: Cookies,
	secure: boolean,
	kind: K,
	data: FlowData[K],
	now = Date.now()
): Date {
	const expiresAt = now + FLOW_LIFETIME_MS[kind];
	const value = sealFlow(kind, data, expiresAt);
	// Only an over-long return path could get here; callers bound it (safeReturnTo).
	if (value.length > MAX_COOKIE_LENGTH) throw new Error(`The ${kind} sign-in state is too large`);
	cookies.set(flowCookieName(kind), value, {
		...cookieOptions(kind, secure),
		maxAge: FLOW_LIFETIME_MS[kind] / 1000
	});
	return new Date(expiresAt);
}

/**
 * The flow of this kind this browser holds, when it is live and `belongs(flow)` says the request
 * finishes it (the state, PIN binding or challenge match). Taking it clears the cookie. A cookie
 * that names another flow is left alone: a link that merely names some state must not be able to
 * end the sign-in this browser has in progress. A dead cookie (unreadable, expired) is cleared.
 */
export function takeFlow<K extends FlowKind>(
	cookies: Cookies,
	secure: boolean,
	kind: K,
	belongs: (flow: Flow<K>) => boolean
): Flow<K> | null {
	const value = cookies.get(flowCookieName(kind));
	if (value === undefined) return null;
	const flow = openFlow(kind, value);
	if (flow && !belongs(flow)) return null;
	cookies.delete(flowCookieName(kind), cookieOptions(kind, secure));
	return flow;
}
