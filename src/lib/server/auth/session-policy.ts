// The session policy the admin chooses in Settings → Security → "Sessions": an absolute lifetime
// (from sign-in, whatever the activity) and an idle timeout (off by default), in whole hours, in
// the settings row. A session made with "Keep me signed in" unchecked also ends 12 hours after
// sign-in.
//
// Model. When a session ends is computed in SQL from its own times and the policy as it is now
// (sessionEndsAt), inside the one query that resolves a request (session.ts): shortening the
// policy ends older sessions at their next request, without touching their rows. The stored
// "expiresAt" is the same computation as of the session's last write (sign-in, or the hourly
// renewal that also moves "lastSeenAt"); it is what housekeeping purges by and what the cookie
// says, and it bounds the session too, so a longer policy reaches a session at its next renewal.
//
// Idle time is measured from "lastSeenAt", which is written at most once an hour (no write per
// request): it trails the last request by up to an hour. The timeout therefore allows that hour
// on top, so an active browser is never signed out early, and an idle one ends between the
// timeout and an hour after it ("accurate to the hour").
//
// Making sessions last longer (a longer lifetime, a longer idle timeout or none) needs step-up:
// a copied cookie must not lengthen its own life. Shortening needs none.
import type postgres from 'postgres';
import { auditRow, logAudit, type AuditInput } from '../audit';
import { sql } from '../db';
import { BROWSER_SESSION_HOURS, type SessionPolicy } from '../../schemas/session-policy';

/** How far "lastSeenAt" can trail the last request: the renewal's period (session.ts). */
export const IDLE_SLACK_HOURS = 1;

/**
 * When a session with these times ends under the current policy. The statement must have the
 * settings row as `a`. least() skips the null of an idle timeout that is off.
 */
export function sessionEndsAt(
	createdAt: postgres.Fragment,
	lastSeenAt: postgres.Fragment,
	keepSignedIn: postgres.Fragment
) {
	return sql`least(
		${createdAt} + make_interval(hours => case when ${keepSignedIn} then a."sessionLifetimeHours"
			else least(a."sessionLifetimeHours", ${BROWSER_SESSION_HOURS}::int) end),
		${lastSeenAt} + make_interval(hours => a."sessionIdleHours" + ${IDLE_SLACK_HOURS}::int)
	)`;
}

/** Whether the session `s` is live now: its stored expiry and the current policy both allow it. */
export function sessionLive() {
	return sql`(s."expiresAt" > now()
		and ${sessionEndsAt(sql`s."createdAt"`, sql`s."lastSeenAt"`, sql`s."keepSignedIn"`)} > now())`;
}

export async function getSessionPolicy(): Promise<SessionPolicy> {
	const [row] = await sql<SessionPolicy[]>`
		select "sessionLifetimeHours" as "lifetimeHours", "sessionIdleHours" as "idleHours"
		from "AppSettings" where id = 1
	`;
	return row;
}

/**
 * Saves the policy and its audit row in one statement, only while the stored policy is still
 * `current` (what the step-up decision was made on). False when it changed meanwhile.
 */
export async function saveSessionPolicy(
	current: SessionPolicy,
	next: SessionPolicy,
	who: Pick<AuditInput, 'userId' | 'ip'>
): Promise<boolean> {
	const changed: AuditInput = {
		event: 'settings.session_policy',
		...who,
		detail: {
			lifetimeHours: next.lifetimeHours,
			idleHours: next.idleHours,
			previousLifetimeHours: current.lifetimeHours,
			previousIdleHours: current.idleHours
		}
	};
	const [row] = await sql<{ saved: boolean }[]>`
		with saved as (
			update "AppSettings"
			set "sessionLifetimeHours" = ${next.lifetimeHours}, "sessionIdleHours" = ${next.idleHours},
				"updatedAt" = now()
			where id = 1 and "sessionLifetimeHours" = ${current.lifetimeHours}
				and "sessionIdleHours" is not distinct from ${current.idleHours}::int
			returning id
		), audited as (${auditRow(changed, sql`exists (select 1 from saved)`)})
		select exists (select 1 from saved) as saved
	`;
	if (row.saved) logAudit(changed);
	return row.saved;
}
