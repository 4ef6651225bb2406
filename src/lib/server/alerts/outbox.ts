// The alert outbox: the statement that records an event also writes its messages, one row per
// enabled channel, when the event's kind is on. Nothing is sent here: the sender (sender.ts) does
// that in the background, so a receiver that is down or slow never slows the request. A sign-in
// writes its row in the sign-in's own statement (sign-in.ts), other events in their audit row's.
// A trigger on the table wakes the senders (migration 0023) once that statement commits.
//
// Bounded: at most MAX_PENDING rows wait (pending or being sent) across all channels; beyond that
// new events are dropped, never queued. A repeat of the same kind for the same
// account on the same channel, while the first still waits, adds one to its count instead of a
// row: the message then says how many times it happened. Throttle refusals wait HOLD_MS before
// their first try, so that a burst of them becomes one message.
import type { Fragment } from 'postgres';
import { sql } from '../db';
import type { AlertKind } from './events';

export const MAX_PENDING = 500;

const positive = (name: string, fallback: number) =>
	Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback;

/** How long a throttle alert waits for its repeats (ALERT_HOLD_MS in tests). */
const holdMs = () => positive('ALERT_HOLD_MS', 60_000);

export type AlertInput = {
	kind: AlertKind;
	event: string;
	userId?: number | null;
	ip?: string | null;
	detail?: Record<string, string | number | boolean | null>;
};

/**
 * The insert of an event's messages, to run in the statement that records the event; with
 * `onlyIf`, only when that condition holds in the statement (the sign-in's gate).
 */
export function alertRows(
	{ kind, event, userId = null, ip = null, detail }: AlertInput,
	onlyIf?: Fragment
): Fragment {
	const delayMs = kind === 'throttled' ? holdMs() : 0;
	return sql`
		insert into "AlertOutbox" ("channelId", kind, event, "userId", ip, detail, "collapseKey",
			"nextAttemptAt")
		select c.id, ${kind}::text, ${event}::text, ${userId}::int, ${ip?.slice(0, 64) ?? null}::text,
			${detail ? sql.json(detail) : null}::jsonb,
			c.id || ':' || ${kind}::text || ':' || coalesce(${userId}::int::text, '-'),
			now() + make_interval(secs => ${delayMs / 1000}::float8)
		from "AlertChannel" c
		join "AlertSettings" s on s.id = 1 and ${kind}::text = any(s.events)
		where c.enabled and ${onlyIf ?? sql`true`}
			and (select count(*) from "AlertOutbox" where status in ('pending', 'sending'))
				< ${MAX_PENDING}
		on conflict ("collapseKey") where status = 'pending' do update set
			count = "AlertOutbox".count + 1, "lastOccurredAt" = now()
	`;
}
