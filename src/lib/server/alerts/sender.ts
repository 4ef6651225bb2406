// The background sender of the alert outbox (outbox.ts). Each instance runs one: it wakes when any
// instance queues a message (LISTEN librariarr_alert: the table's trigger notifies when a row is
// inserted and its statement commits) and otherwise polls every ALERT_POLL_MS (15 s), which also
// picks up retries when they are due and any notification lost while the database was away. Rows are claimed
// with `for update skip locked` in a short statement of their own, which marks them "sending"
// with a deadline, so with several instances on one database each message is sent by one of them,
// and no lock is held while a receiver is being waited for (a sign-in that repeats a waiting
// message never waits on a delivery). A claim whose deadline passes (its instance died) is taken
// again.
//
// A failed delivery is tried again after 30 s, then 1, 2, 4 and 8 minutes (ALERT_RETRY_BASE_MS
// scales them in tests); after MAX_ATTEMPTS it is "failed", and the page shows it. Sent and failed
// rows are pruned by housekeeping (pruneAlerts).
import { sql } from '../db';
import { open } from '../crypto';
import { log } from '../log';
import { observeAlertDelivery } from '../metrics';
import {
	deliver,
	deliveryTimeoutMs,
	openSettings,
	recordAnswer,
	type AlertMessage,
	type ChannelKind,
	type Delivery
} from './channels';
import { isAlertKind, KIND_WORDS } from './events';

export const MAX_ATTEMPTS = 6;
const BATCH = 10;

const positive = (name: string, fallback: number) =>
	Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback;
const pollMs = () => positive('ALERT_POLL_MS', 15_000);
const retryBaseMs = () => positive('ALERT_RETRY_BASE_MS', 30_000);

/** The wait before try number `attempts + 1`. */
export const backoffMs = (attempts: number, base = retryBaseMs()) =>
	Math.min(base * 2 ** Math.max(0, attempts - 1), 60 * 60 * 1000);

type Claimed = {
	id: string;
	channelId: number;
	channelKind: ChannelKind;
	settings: string;
	kind: string;
	event: string;
	username: string | null;
	ip: string | null;
	detail: Record<string, unknown> | null;
	count: number;
	attempts: number;
	collapseKey: string;
	createdAt: Date;
	lastOccurredAt: Date;
};

async function claim(): Promise<Claimed[]> {
	// The claim lasts the delivery's deadline and a margin: past it, another sender may take it.
	const claimSeconds = deliveryTimeoutMs() / 1000 + 30;
	return sql<Claimed[]>`
		with due as (
			select id from "AlertOutbox"
			where status in ('pending', 'sending') and "nextAttemptAt" <= now()
			order by id limit ${BATCH}
			for update skip locked
		)
		update "AlertOutbox" o set status = 'sending', attempts = o.attempts + 1,
			"nextAttemptAt" = now() + make_interval(secs => ${claimSeconds}::float8)
		from due, "AlertChannel" c
		where o.id = due.id and c.id = o."channelId"
		returning o.id, o."channelId", c.kind as "channelKind", c.settings, o.kind, o.event,
			(select u.username from "User" u where u.id = o."userId") as username, o.ip, o.detail,
			o.count, o.attempts, o."collapseKey", o."createdAt", o."lastOccurredAt"
	`;
}

/** The words of a claimed row. */
export function messageOf(
	row: Omit<Claimed, 'id' | 'channelId' | 'channelKind' | 'settings' | 'attempts' | 'collapseKey'>
): AlertMessage {
	const detail = row.detail ?? {};
	const title = isAlertKind(row.kind) ? KIND_WORDS[row.kind].title : row.event;
	const lines: string[] = [];
	if (row.kind === 'sign_in_change' || row.kind === 'api_key') lines.push(`What: ${row.event}`);
	if (typeof detail.method === 'string') lines.push(`Method: ${detail.method}`);
	if (detail.newBrowser === true) lines.push('From a browser not known to the account.');
	const account = row.username ?? (typeof detail.username === 'string' ? detail.username : null);
	return {
		kind: row.kind,
		event: row.event,
		title,
		lines,
		account,
		address: row.ip,
		count: row.count,
		firstAt: row.createdAt.toISOString(),
		lastAt: row.lastOccurredAt.toISOString(),
		test: false,
		// The "Not me" link of a new-browser or recovery-code alert (auth/not-me.ts), sealed in its row.
		link: typeof detail.notMe === 'string' ? open(detail.notMe) : null
	};
}

async function settle(row: Claimed, delivery: Delivery) {
	if (delivery.ok) {
		await sql`
			update "AlertOutbox" set status = 'sent', "doneAt" = now(), "lastError" = null
			where id = ${row.id}`;
		observeAlertDelivery(row.channelKind, 'sent');
	} else if (row.attempts >= MAX_ATTEMPTS) {
		await sql`
			update "AlertOutbox" set status = 'failed', "doneAt" = now(), "lastError" = ${delivery.answer}
			where id = ${row.id}`;
		observeAlertDelivery(row.channelKind, 'failed');
		log.warn('Alert not delivered', {
			channel: row.channelKind,
			kind: row.kind,
			error: delivery.answer
		});
	} else {
		await backToPending(row, delivery.answer);
		observeAlertDelivery(row.channelKind, 'retry');
	}
	await recordAnswer(row.channelId, delivery);
}

/**
 * A failed try waits for the next one as "pending" again; when a repeat of it was queued in the
 * meantime (a pending row with the same key exists), this one is folded into that one instead.
 */
async function backToPending(row: Claimed, error: string) {
	const next = backoffMs(row.attempts);
	await sql.begin(async (tx) => {
		const [merged] = await tx`
			update "AlertOutbox" set count = count + ${row.count},
				"createdAt" = least("createdAt", ${row.createdAt}),
				attempts = greatest(attempts, ${row.attempts}), "lastError" = ${error},
				"nextAttemptAt" = greatest("nextAttemptAt", now() + make_interval(secs => ${next / 1000}::float8))
			where status = 'pending' and "collapseKey" = ${row.collapseKey}
			returning id`;
		if (merged) {
			await tx`delete from "AlertOutbox" where id = ${row.id}`;
			return;
		}
		await tx`
			update "AlertOutbox" set status = 'pending', "lastError" = ${error},
				"nextAttemptAt" = now() + make_interval(secs => ${next / 1000}::float8)
			where id = ${row.id}`;
	});
}

async function sendOne(row: Claimed) {
	const settings = openSettings(row.settings);
	const delivery: Delivery = settings
		? await deliver(settings, messageOf(row))
		: { ok: false, answer: 'The channel’s settings no longer open (the secret key changed).' };
	await settle(row, delivery);
}

/** One pass: claims what is due and sends it, until nothing is due. Returns how many were tried. */
export async function sendDueAlerts(): Promise<number> {
	let tried = 0;
	for (;;) {
		const rows = await claim();
		if (!rows.length) return tried;
		tried += rows.length;
		await Promise.all(
			rows.map((row) =>
				sendOne(row).catch((error) =>
					log.error('Alert delivery failed', { id: row.id, error: String(error) })
				)
			)
		);
		if (stopped) return tried;
	}
}

/**
 * Sent rows older than a day and failed ones older than a week go, and at most 200 finished rows
 * stay whatever their age (housekeeping calls this).
 */
export async function pruneAlerts(db: typeof sql = sql): Promise<number> {
	const old = await db`
		delete from "AlertOutbox"
		where (status = 'sent' and "doneAt" < now() - interval '1 day')
			or (status = 'failed' and "doneAt" < now() - interval '7 days')`;
	const extra = await db`
		delete from "AlertOutbox" where status in ('sent', 'failed') and id not in (
			select id from "AlertOutbox" where status in ('sent', 'failed') order by id desc limit 200
		)`;
	return old.count + extra.count;
}

let stopped = true;
let timer: ReturnType<typeof setTimeout> | null = null;
let running: Promise<void> | null = null;
let again = false;

function tick() {
	if (stopped) return;
	if (running) {
		again = true;
		return;
	}
	if (timer) clearTimeout(timer);
	timer = null;
	running = sendDueAlerts()
		.then(() => undefined)
		.catch((error) => log.error('Alert sender failed', { error: String(error) }))
		.finally(() => {
			running = null;
			if (stopped) return;
			if (again) {
				again = false;
				setImmediate(tick);
			} else timer = setTimeout(tick, pollMs());
		});
}

let unlisten: (() => Promise<void>) | null = null;

export function startAlertSender() {
	if (!stopped) return;
	stopped = false;
	sql
		.listen('librariarr_alert', () => setImmediate(tick))
		.then((listening) => {
			if (stopped) return listening.unlisten();
			unlisten = listening.unlisten;
		})
		.catch((error) =>
			// Polling still sends everything, only later.
			log.warn('Alert sender cannot listen for new alerts; polling only', { error: String(error) })
		);
	tick();
}

/** Stops listening and polling, and waits (at most `waitMs`) for deliveries in flight. */
export async function stopAlertSender(waitMs = 5000) {
	stopped = true;
	if (timer) clearTimeout(timer);
	timer = null;
	// Both waits are bounded: when PostgreSQL went first (a stop sent to the whole process group),
	// postgres.js may never settle the unlisten, and the shutdown must still reach the pool.
	const stopListening = unlisten?.().catch(() => {});
	unlisten = null;
	await within(Math.min(waitMs, 1000), stopListening);
	if (running) await within(waitMs, running);
}

/** Waits for `work` (when there is any), or `ms`, whichever ends first. */
async function within(ms: number, work: Promise<unknown> | undefined | null) {
	if (!work) return;
	let wait: ReturnType<typeof setTimeout> | undefined;
	await Promise.race([work, new Promise((r) => (wait = setTimeout(r, ms)))]);
	clearTimeout(wait);
}
