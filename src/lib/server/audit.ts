// The audit trail: an "AuditEvent" row and one log line for every sign-in, failure, sign-out,
// setup and settings change. `detail` must never hold a password, token or secret.
//
// Strangers write nothing but counters: a failure that names no account (a callback with a state
// we never started, an unlinked SSO identity, an unknown passkey, an unknown username) is not a
// row of its own but a count on one row per (kind, address prefix, window), see auditFailure.
// So what anonymous traffic can make the trail hold is a number per kind, prefix and 15 minutes,
// and it cannot push the account's own history (sign-ins, failures naming the account) out of
// sight: the home page and the backup read that history first.
// Inside a request the row also records the browser's User-Agent (for the sign-in history),
// taken from Kit's request context so that no caller has to pass it along.
//
// Every failed or throttled sign-in also writes one line that never changes shape, for fail2ban
// (README, "fail2ban"): `WARN Sign-in failed ip=<the client's address> method=… reason=…`, with
// the address as client.ts resolved it (never the proxy's, never the prefix a stranger's row
// keeps), whatever the row became. And every event is counted for /metrics (metrics.ts).
//
// An event that sends an alert (alerts/events.ts) queues its messages in the statement that
// writes its row (alerts/outbox.ts); the sender delivers them in the background.
import { getRequestEvent } from '$app/server';
import type { Fragment } from 'postgres';
import { alongside, sql } from './db';
import { alertRows } from './alerts/outbox';
import { alertKindOf } from './alerts/events';
import { addressPrefix } from './client';
import { log } from './log';
import { observeEvent } from './metrics';

export type AuditInput = {
	event: string;
	userId?: number | null;
	method?: string | null;
	ip?: string | null;
	detail?: Record<string, string | number | boolean | null>;
};

const MAX_USER_AGENT = 512;

/** The User-Agent of the request being handled, or null outside one (the backup scheduler). */
function currentUserAgent(): string | null {
	try {
		return getRequestEvent().request.headers.get('user-agent')?.slice(0, MAX_USER_AGENT) ?? null;
	} catch {
		return null;
	}
}

/** The fail2ban line of a failed or throttled sign-in (nothing for any other event). */
function failureLine({ event, method = null, ip = null, detail }: AuditInput) {
	if (event !== 'login.failed' && event !== 'login.throttled') return;
	const reason =
		event === 'login.throttled'
			? 'throttled'
			: typeof detail?.reason === 'string'
				? detail.reason
				: 'invalid_credentials';
	log.warn('Sign-in failed', { ip: ip ?? 'unknown', method, reason });
}

export async function audit(input: AuditInput) {
	failureLine(input);
	await recorded(input);
}

/** The row and the event's log line, once the fail2ban line is written. */
async function recorded(input: AuditInput) {
	logAudit(input);
	try {
		const alert = alertFor(input);
		await (alert ? sql`${alongside([alert])} ${auditRow(input)}` : auditRow(input));
	} catch (error) {
		// Losing an audit row must not turn a successful sign-in into an error page.
		log.error('Could not write audit event', { event: input.event, error: String(error) });
	}
}

/** The outbox insert of an event that sends an alert, or null. */
function alertFor({ event, userId = null, ip = null, detail, method = null }: AuditInput) {
	const kind = alertKindOf(event);
	if (!kind) return null;
	return alertRows({ kind, event, userId, ip, detail: { ...detail, method } });
}

/** The event's log line (audit() writes it; a caller that inserts the row itself, too). */
export function logAudit({ event, userId = null, method = null, ip = null, detail }: AuditInput) {
	observeEvent(event, method);
	log.info(event, { user: userId, method, ip, ...detail });
}

/**
 * The event's row as one insert, to run alone or inside a larger statement (sign-in.ts); with
 * `onlyIf`, written only when that condition holds in the statement.
 */
export function auditRow(
	{ event, userId = null, method = null, ip = null, detail }: AuditInput,
	onlyIf?: Fragment
) {
	if (onlyIf) {
		return sql`
			insert into "AuditEvent" (event, "userId", method, ip, detail, "userAgent")
			select ${event}::text, ${userId}::int, ${method}::text, ${ip}::text,
				${detail ? sql.json(detail) : null}::jsonb, ${currentUserAgent()}::text
			where ${onlyIf}
		`;
	}
	return sql`
		insert into "AuditEvent" (event, "userId", method, ip, detail, "userAgent")
		values (${event}, ${userId}, ${method}, ${ip}, ${detail ? sql.json(detail) : null},
			${currentUserAgent()})
	`;
}

/**
 * An event that can repeat many times (a throttled attempt): one row per `collapseKey` (a key
 * and its window), whose "count" goes up with each repeat, instead of a row per attempt. The
 * row keeps the first occurrence's details; "lastOccurredAt" the latest. Logged at debug level
 * after the first, so a stream of attempts cannot flood the log either; only a failed sign-in's
 * fail2ban line is written for each attempt, on purpose (that is how fail2ban counts them).
 */
export async function auditRepeated(input: AuditInput & { collapseKey: string }) {
	failureLine(input);
	await counted(input);
}

/** auditRepeated once its fail2ban line is written. */
async function counted(input: AuditInput & { collapseKey: string }) {
	observeEvent(input.event, input.method);
	const { event, userId = null, method = null, ip = null, detail, collapseKey } = input;
	const userAgent = currentUserAgent();
	const alert = alertFor(input);
	try {
		const [row] = await sql<{ count: number }[]>`
			${alert ? alongside([alert]) : sql``}
			insert into "AuditEvent" (event, "userId", method, ip, detail, "collapseKey", "lastOccurredAt",
				"userAgent")
			values (${event}, ${userId}, ${method}, ${ip}, ${detail ? sql.json(detail) : null},
				${collapseKey}, now(), ${userAgent})
			on conflict ("collapseKey") do update set
				count = "AuditEvent".count + 1, "lastOccurredAt" = now()
			returning count
		`;
		const fields = { user: userId, method, ip, ...detail, count: row.count };
		if (row.count === 1) log.info(event, fields);
		else log.debug(event, fields);
	} catch (error) {
		log.error('Could not write audit event', { event, error: String(error) });
	}
}

/** The window of the anonymous-failure counters (a fixed quarter-hour of the clock). */
export const REFUSAL_WINDOW_MS = 15 * 60 * 1000;

/**
 * A failed or refused sign-in. When it names an account (`userId`), it is a row of its own (the
 * throttles bound those); when it names none, it is counted on the row of its kind (event, method,
 * reason), address prefix (client.ts: IPv4 address, IPv6 /64) and window, which keeps the first
 * occurrence's details, and the stored address is the prefix that was counted.
 */
export async function auditFailure(input: AuditInput) {
	failureLine(input);
	if (input.userId != null) return recorded(input);
	const prefix = input.ip ? addressPrefix(input.ip) : 'unknown';
	const window = Math.floor(Date.now() / REFUSAL_WINDOW_MS) * REFUSAL_WINDOW_MS;
	const reason = typeof input.detail?.reason === 'string' ? input.detail.reason : '';
	const kind = `${input.event}:${input.method ?? ''}:${reason}`;
	await counted({
		...input,
		userId: null,
		ip: prefix,
		collapseKey: `anonymous:${kind}:${prefix}@${new Date(window).toISOString()}`
	});
}
