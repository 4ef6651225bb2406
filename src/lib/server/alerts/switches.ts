// What Settings → Notifications reads and saves besides the channels: which kinds of event send
// an alert, and the messages that could not be delivered (the outbox's failed rows, kept until
// housekeeping prunes them) with how many still wait.
import { sql } from '../db';
import { ALERT_KINDS, isAlertKind, type AlertKind } from './events';

export async function alertKindsOn(): Promise<AlertKind[]> {
	const [row] = await sql<{ events: string[] }[]>`
		select events from "AlertSettings" where id = 1`;
	return (row?.events ?? []).filter(isAlertKind);
}

/** Saves the kinds that are on; anything not a known kind is ignored. */
export async function saveAlertKinds(values: string[]): Promise<AlertKind[]> {
	const on = ALERT_KINDS.filter((kind) => values.includes(kind));
	await sql`update "AlertSettings" set events = ${on}::text[] where id = 1`;
	return on;
}

export type Undelivered = {
	id: string;
	channel: string;
	kind: string;
	count: number;
	attempts: number;
	lastError: string | null;
	doneAt: Date;
};

/** The newest messages given up on (at most 20), and how many wait to be sent. */
export async function deliveryState(): Promise<{ failed: Undelivered[]; waiting: number }> {
	const [failed, [{ waiting }]] = await Promise.all([
		sql<Undelivered[]>`
			select o.id, c.name as channel, o.kind, o.count, o.attempts, o."lastError", o."doneAt"
			from "AlertOutbox" o join "AlertChannel" c on c.id = o."channelId"
			where o.status = 'failed'
			order by o."doneAt" desc limit 20`,
		sql<{ waiting: number }[]>`
			select count(*)::int as waiting from "AlertOutbox" where status in ('pending', 'sending')`
	]);
	return { failed, waiting };
}
