// The second step of a password sign-in with the authenticator app on, costing what the password
// step costs: one statement before the code is checked and one after.
//
// Before: the waiting sign-in (pending-sign-in.ts), the account's sealed secret and last used
// step, and the throttle's count under the 'totp' kind (throttle.ts), in one statement. The count
// runs only when the sign-in is waiting and is the account the cookie names, so that a cookie
// cannot choose the keys it is counted on. As at the password, a browser with a known-device
// cookie of that account is counted on its own keys, chosen in SQL.
// The code is then checked in JavaScript (totp.ts), against steps later than the last used.
// After: one statement that ends the wait, records the step (only if it is still later than the
// last: two tabs cannot both use one code), gives back what the throttle counted, and writes the
// session and its audit row, the last two only when the first two took (sign-in.ts's gate).
// An OIDC sign-in held back for its second factor (sso/mfa.ts) ends the same way, as the OIDC
// session it would have been (pending-sign-in.ts keeps its fields).
import type { RequestEvent } from '@sveltejs/kit';
import { audit, auditRepeated } from '../audit';
import { sql } from '../db';
import { knownDeviceAnyUser } from './known-device';
import { dropPendingCookie, idOf, openSsoSession, pendingCookie } from './pending-sign-in';
import { signIn } from './sign-in';
import {
	countingCtes,
	secretCheckRules,
	successWrites,
	throttledText,
	verdictOf,
	type CountedRow,
	type CountStep,
	type SecretRefusal
} from './throttle';
import { unusedStepOf } from './totp';

export const CODE_EXPIRED = 'That sign-in has expired (it lasts five minutes). Sign in again.';
const WRONG =
	'That code is not right, or it was already used. Wait for the next code and try again.';

type Row = {
	userId: number | null;
	returnTo: string | null;
	keepSignedIn: boolean | null;
	totpSecret: string | null;
	totpLastStep: string | null;
	method: 'local' | 'oidc' | null;
	ssoSession: string | null;
	counts: CountedRow[];
};

/** Signs the waiting browser in with an authenticator code, or says why not. */
export async function signInWithTotp(
	event: Pick<RequestEvent, 'locals' | 'cookies' | 'request' | 'setHeaders'>,
	code: string
): Promise<{ ok: true; returnTo: string | null } | SecretRefusal> {
	const cookie = pendingCookie(event.cookies);
	if (!cookie) return { ok: false, status: 400, message: CODE_EXPIRED };
	const ip = event.locals.client.ip;
	const claim = knownDeviceAnyUser(event.cookies);
	const strangerRules = secretCheckRules('totp', { ip, account: cookie.account });
	const deviceRules = claim
		? secretCheckRules('totp', { ip, account: cookie.account, device: claim.deviceId })
		: strangerRules;
	const ownDevice = sql`(select "userId" from pending) = ${claim?.userId ?? null}::int`;
	// A known browser counts under its two keys, a stranger under three: SQL picks per step.
	const steps: CountStep[] = claim
		? strangerRules.map((otherwise, i) => ({
				when: ownDevice,
				then: deviceRules[i] ?? null,
				otherwise
			}))
		: strangerRules;
	const pendingId = idOf(cookie.token);
	const [row] = await sql<Row[]>`
		with pending as (
			select p."userId", p."returnTo", p."keepSignedIn", p.method, p."ssoSession", u."totpSecret",
				u."totpLastStep"::text as "totpLastStep"
			from "PendingSignIn" p join "User" u on u.id = p."userId"
			where p.id = ${pendingId} and p."expiresAt" > now()
				and coalesce(u."localUsername", u.id::text) = ${cookie.account}
		),
		${countingCtes(steps, sql`exists (select 1 from pending)`)}
		select (select "userId" from pending) as "userId", (select "returnTo" from pending) as "returnTo",
			(select "keepSignedIn" from pending) as "keepSignedIn",
			(select "totpSecret" from pending) as "totpSecret",
			(select "totpLastStep" from pending) as "totpLastStep",
			(select method from pending) as method, (select "ssoSession" from pending) as "ssoSession",
			coalesce((select json_agg(c order by c.step) from counted c), '[]') as counts
	`;
	const { userId } = row;
	if (userId === null) return { ok: false, status: 400, message: CODE_EXPIRED };
	const verdict = verdictOf(steps, row.counts);
	const detail = { username: cookie.account, step: 'totp' };
	const method = row.method === 'oidc' ? 'oidc' : 'local';
	if (!verdict.allowed) {
		event.setHeaders({ 'retry-after': String(verdict.retryAfterSeconds) });
		await auditRepeated({
			event: 'login.throttled',
			userId,
			method,
			ip,
			detail: { ...detail, key: verdict.key },
			collapseKey: `${verdict.key}@${verdict.windowEndsAt.toISOString()}`
		});
		return { ok: false, status: 429, message: throttledText('totp', verdict.retryAfterSeconds) };
	}
	const step = unusedStepOf(row.totpSecret, row.totpLastStep, code);
	if (step === null) {
		await audit({
			event: 'login.failed',
			userId,
			method,
			ip,
			detail: { ...detail, reason: 'wrong_totp' }
		});
		return { ok: false, status: 400, message: WRONG };
	}
	const rules = claim && claim.userId === userId ? deviceRules : strangerRules;
	const gate = sql`
		finished as (
			delete from "PendingSignIn" where id = ${pendingId} and "expiresAt" > now()
			returning "userId"
		),
		accepted as (
			update "User" set "totpLastStep" = ${step.toString()}
			where id = (select "userId" from finished) and "totpSecret" = ${row.totpSecret}
				and ("totpLastStep" is null or "totpLastStep" < ${step.toString()})
			returning id
		)`;
	dropPendingCookie(event.cookies, event.locals.secureCookies);
	// Of two requests that both got this far, one finds the wait already ended.
	// An OIDC sign-in whose sealed fields no longer open (the key changed) is not made half-way.
	const sso = method === 'oidc' ? openSsoSession(row.ssoSession) : null;
	if (method === 'oidc' && !sso) return { ok: false, status: 400, message: CODE_EXPIRED };
	const decoration = { ...(sso ?? {}), keepSignedIn: row.keepSignedIn ?? true };
	if (!(await signIn(event, userId, method, decoration, successWrites(rules), gate))) {
		return { ok: false, status: 400, message: CODE_EXPIRED };
	}
	return { ok: true, returnTo: row.returnTo };
}
