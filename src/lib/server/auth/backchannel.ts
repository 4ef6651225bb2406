// OpenID Connect Back-Channel Logout: the provider posts a signed logout token, server to server,
// and every session of the provider login it names ends here.
//
// The token is checked as the specification says (§2.6): signature against the issuer's key set
// (asymmetric algorithms only), `iss`, `aud` containing our client ID, `iat`, `exp` when present,
// `events` with the back-channel logout member, `sid` or `sub`, no `nonce`, and a `jti` not seen
// before. A token is accepted only while its `iat` is at most MAX_AGE_S old, so its `jti` needs to
// be remembered only that long: "LogoutTokenSeen" rows live until iat + MAX_AGE_S + clock skew and
// are purged as tokens come in. Bound: one row per accepted token in that window, and at most
// MAX_SEEN rows at all (past that, tokens are refused until rows expire), so only the provider's
// own signed tokens can add rows and never without limit.
//
// Order of the checks: the cheap ones first, on the token as it claims to be (a JWS with an
// allowed algorithm, our issuer, our client ID in `aud`), so junk never reaches the key set; then
// the signature against the cached key set (whose refetch on an unknown `kid` jose limits to one
// per cooldown). The endpoint counts only tokens that fail (the route), so no amount of junk from
// the provider's address can turn the provider's real tokens away.
import {
	decodeJwt,
	decodeProtectedHeader,
	errors as joseErrors,
	jwtVerify,
	type JWTPayload
} from 'jose';
import { sql } from '../db';
import { issuerSpellings, sameIssuer } from '../rule/issuer';
import { oidcReady } from '../sso/availability';
import type { SsoConfig } from '../sso/config';
import { getDiscovery, getJwks } from './sources/oidc-discovery';
import { ALLOWED_ALGORITHMS } from './sources/oidc';

export const BACKCHANNEL_LOGOUT_PATH = '/api/auth/sso/oidc/backchannel-logout';
export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How old (by `iat`) a logout token may be. */
export const MAX_AGE_S = 10 * 60;
export const CLOCK_SKEW_S = 60;
export const MAX_SEEN = 10_000;
/** Asymmetric algorithms only: a shared-secret MAC would let anyone holding the secret forge. */
export const LOGOUT_TOKEN_ALGORITHMS = ALLOWED_ALGORITHMS;

export class LogoutTokenError extends Error {}

export type LogoutTarget = {
	issuer: string;
	sid: string | null;
	sub: string | null;
	jti: string;
	iat: number;
};

const shortString = (value: unknown, max = 255) =>
	typeof value === 'string' && value.length > 0 && value.length <= max ? value : null;

/** Verifies a logout token; throws LogoutTokenError with the reason (for the log) when invalid. */
export async function verifyLogoutToken(token: string, sso: SsoConfig): Promise<LogoutTarget> {
	if (!oidcReady(sso)) throw new LogoutTokenError('OIDC is not configured');
	const doc = await getDiscovery(sso.oidcIssuer, sso.ssoConfigVersion).catch((error) => {
		throw new LogoutTokenError(`discovery failed (${(error as Error).message})`);
	});
	claimsLookRight(token, doc.issuer, sso.oidcClientId);
	const keys = await getJwks(sso.oidcIssuer, sso.ssoConfigVersion).catch((error) => {
		throw new LogoutTokenError(`key set unavailable (${(error as Error).message})`);
	});
	let payload: JWTPayload;
	try {
		({ payload } = await jwtVerify(token, keys, {
			audience: sso.oidcClientId,
			algorithms: LOGOUT_TOKEN_ALGORITHMS,
			requiredClaims: ['iss', 'aud', 'iat', 'jti', 'events'],
			clockTolerance: CLOCK_SKEW_S,
			maxTokenAge: MAX_AGE_S
		}));
	} catch (error) {
		const detail =
			error instanceof joseErrors.JOSEError
				? `${error.code}: ${error.message}`
				: (error as Error).message;
		throw new LogoutTokenError(`logout token rejected (${detail})`);
	}
	// The issuer of a sign-in is the document's (a multi-tenant template never signs anyone in
	// with its own name, so a template here matches nothing, which is the safe answer).
	if (typeof payload.iss !== 'string' || !sameIssuer(payload.iss, doc.issuer))
		throw new LogoutTokenError(`iss "${String(payload.iss).slice(0, 200)}" is not the issuer`);
	const now = Math.floor(Date.now() / 1000);
	if (typeof payload.iat !== 'number' || payload.iat > now + CLOCK_SKEW_S)
		throw new LogoutTokenError('iat is in the future');
	const events = payload.events;
	if (
		!events ||
		typeof events !== 'object' ||
		Array.isArray(events) ||
		!Object.hasOwn(events, BACKCHANNEL_EVENT) ||
		typeof (events as Record<string, unknown>)[BACKCHANNEL_EVENT] !== 'object' ||
		(events as Record<string, unknown>)[BACKCHANNEL_EVENT] === null
	)
		throw new LogoutTokenError('events has no back-channel logout member');
	if ('nonce' in payload) throw new LogoutTokenError('a logout token must not carry a nonce');
	const sid = payload.sid === undefined ? null : shortString(payload.sid);
	const sub = payload.sub === undefined ? null : shortString(payload.sub);
	if (payload.sid !== undefined && sid === null) throw new LogoutTokenError('sid is not usable');
	if (payload.sub !== undefined && sub === null) throw new LogoutTokenError('sub is not usable');
	if (!sid && !sub) throw new LogoutTokenError('the token names neither sid nor sub');
	const jti = shortString(payload.jti);
	if (!jti) throw new LogoutTokenError('jti is not usable');
	return { issuer: payload.iss, sid, sub, jti, iat: payload.iat };
}

/**
 * The cheap checks, before any key is looked at: the token is a JWS with an allowed algorithm
 * that claims to come from our issuer for our client. Nothing here is trusted yet (the signature
 * decides); it only keeps junk away from the key set.
 */
function claimsLookRight(token: string, issuer: string, clientId: string) {
	let alg: unknown;
	let claimed: JWTPayload;
	try {
		alg = decodeProtectedHeader(token).alg;
		claimed = decodeJwt(token);
	} catch {
		throw new LogoutTokenError('not a signed JWT');
	}
	if (typeof alg !== 'string' || !LOGOUT_TOKEN_ALGORITHMS.includes(alg))
		throw new LogoutTokenError(`algorithm ${String(alg).slice(0, 20)} is not allowed`);
	if (typeof claimed.iss !== 'string' || !sameIssuer(claimed.iss, issuer))
		throw new LogoutTokenError(`iss "${String(claimed.iss).slice(0, 200)}" is not the issuer`);
	const audiences = Array.isArray(claimed.aud) ? claimed.aud : [claimed.aud];
	if (!audiences.includes(clientId)) throw new LogoutTokenError('aud is not our client ID');
}

let lastPurge = 0;

/**
 * Remembers the token's jti and ends the sessions it names, in one transaction: a replayed jti
 * ends nothing. Returns the ids of the users whose sessions ended and how many ended.
 */
export async function applyLogout(
	target: LogoutTarget
): Promise<{ ended: { userId: number; count: number }[] }> {
	if (Date.now() - lastPurge > 60_000) {
		lastPurge = Date.now();
		await sql`delete from "LogoutTokenSeen" where "expiresAt" <= now()`;
	}
	const keepUntil = new Date((target.iat + MAX_AGE_S + CLOCK_SKEW_S) * 1000);
	const issuers = issuerSpellings(target.issuer).slice(1);
	return sql.begin(async (tx) => {
		const [seen] = await tx`
			insert into "LogoutTokenSeen" (issuer, jti, "expiresAt")
			select ${issuers[0]}, ${target.jti}, ${keepUntil}
			where (select count(*) from "LogoutTokenSeen" where "expiresAt" > now()) < ${MAX_SEEN}
			on conflict do nothing
			returning jti
		`;
		if (!seen) throw new LogoutTokenError('jti was seen before (or too many tokens at once)');
		const rows = target.sid
			? await tx<{ userId: number }[]>`
					delete from "Session"
					where method = 'oidc' and "oidcSid" = ${target.sid} and "oidcIssuer" in ${tx(issuers)}
						${target.sub ? tx`and "ssoSubject" = ${target.sub}` : tx``}
					returning "userId"
				`
			: await tx<{ userId: number }[]>`
					delete from "Session" s
					using "User" u
					where s."userId" = u.id and s.method = 'oidc'
						and u."ssoProvider" = 'oidc' and u."ssoSubject" = ${target.sub}
						and u."ssoIssuer" in ${tx(issuers)}
					returning s."userId"
				`;
		const counts = new Map<number, number>();
		for (const r of rows) counts.set(r.userId, (counts.get(r.userId) ?? 0) + 1);
		return { ended: [...counts].map(([userId, count]) => ({ userId, count })) };
	});
}
