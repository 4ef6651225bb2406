// Housekeeping: rows that matter only for a while are deleted on a schedule, so that nothing a
// visitor can make the server write piles up for ever.
//
// - "UsedSignInFlow": the record that a sign-in flow was used, once the flow has expired (the
//   flows themselves live in browsers' cookies; see auth/used-flows.ts).
// - "Session": expired ones, and those whose "sessionVersion" no longer equals the user's
//   (ended by a password change or "sign everyone out"; they can never be valid again).
// - "PendingSignIn": password sign-ins waiting for their second step, once expired (five
//   minutes; pending-sign-in.ts also caps them per user).
// - "Throttle": counters whose window has ended (the throttle also drops them as attempts come
//   in; this catches the ones no later attempt touches).
// - "AuditEvent": entries older than "AppSettings"."auditRetentionDays" (default 90); a collapsed
//   entry (a count of repeated events) by its latest occurrence.
//
// - "AlertOutbox": sent alerts after a day, failed ones after a week, and all but the newest 200
//   finished ones (alerts/sender.ts).
// - "Backup": rows of backups deleted more than 7 days ago (backup/catalogue.ts).
//
// The job runs once when the instance starts and then every 15 minutes. With several instances
// on one database each scheduled run happens once: the instance that gets
// pg_try_advisory_xact_lock does it, the others skip that occurrence (the same idea as the backup
// scheduler). The run at start waits for the same lock instead, so instances that start together
// take turns, and it also tidies this instance's backup folder: temporary files a killed backup
// left, and backup files the list does not know yet (recorded as this instance's).
import { Cron } from 'croner';
import { pruneAlerts } from './alerts/sender';
import { purgeUsedFlows } from './auth/used-flows';
import { purgeNotMe } from './auth/not-me';
import { purgeDeletedBackups, tidyBackupFolder } from './backup';
import { sql } from './db';
import { log } from './log';

/** Every 15 minutes (server time), on the quarter hour. */
export const HOUSEKEEPING_PATTERN = '*/15 * * * *';
const HOUSEKEEPING_LOCK = 727_274_004; // arbitrary, fixed: "librariarr housekeeping"

export type Purged = {
	usedFlows: number;
	sessions: number;
	throttles: number;
	auditEvents: number;
	pendingSignIns: number;
	deletedBackups: number;
	backupTempFiles: number;
	alerts: number;
	notMeLinks: number;
};

/** Audit entries older than the configured retention; returns how many went. */
export async function purgeExpiredAudit(db: typeof sql = sql): Promise<number> {
	const result = await db`
		delete from "AuditEvent"
		where coalesce("lastOccurredAt", "occurredAt") < now() - make_interval(days => (
			select "auditRetentionDays" from "AppSettings" where id = 1
		))
	`;
	return result.count;
}

/**
 * One run; null when another instance holds the lock (and is doing it). `atStart`: wait for the
 * lock, and tidy this instance's backup folder too.
 */
export async function runHousekeeping(atStart = false): Promise<Purged | null> {
	return sql.begin(async (tx) => {
		const db = tx as unknown as typeof sql;
		if (atStart) {
			await tx`select pg_advisory_xact_lock(${HOUSEKEEPING_LOCK})`;
		} else {
			const [{ locked }] = await tx<{ locked: boolean }[]>`
				select pg_try_advisory_xact_lock(${HOUSEKEEPING_LOCK}) as locked
			`;
			if (!locked) return null;
		}
		const folder = atStart ? await tidyBackupFolder(true, db) : { tempFiles: 0 };
		const usedFlows = await purgeUsedFlows(db);
		const sessions = await tx`
			delete from "Session" s where s."expiresAt" < now()
				or s."sessionVersion" <> (select u."sessionVersion" from "User" u where u.id = s."userId")
		`;
		const throttles = await tx`delete from "Throttle" where "windowEndsAt" <= now()`;
		const auditEvents = await purgeExpiredAudit(db);
		const pendingSignIns = await tx`delete from "PendingSignIn" where "expiresAt" <= now()`;
		const deletedBackups = await purgeDeletedBackups(db);
		const alerts = await pruneAlerts(db);
		const notMeLinks = await purgeNotMe(db);
		return {
			notMeLinks,
			alerts,
			deletedBackups,
			backupTempFiles: folder.tempFiles,
			pendingSignIns: pendingSignIns.count,
			usedFlows,
			sessions: sessions.count,
			throttles: throttles.count,
			auditEvents
		};
	});
}

async function runAndLog(atStart = false) {
	try {
		const purged = await runHousekeeping(atStart);
		if (!purged) return;
		const total = Object.values(purged).reduce((a, b) => a + b, 0);
		(total ? log.info : log.debug)('Housekeeping purged expired rows', purged);
	} catch (error) {
		log.error('Housekeeping failed', { error: String(error) });
	}
}

let job: Cron | null = null;

/** The run in progress, if any: a shutdown lets it finish before the pool closes. */
let running: Promise<void> | null = null;

function track(run: Promise<void>) {
	running = run.finally(() => {
		if (running === tracked) running = null;
	});
	const tracked = running;
	return tracked;
}

export function startHousekeeping() {
	if (job) return;
	job = new Cron(HOUSEKEEPING_PATTERN, { protect: true }, () => track(runAndLog()));
	void track(runAndLog(true));
}

/**
 * Stops the schedule and waits (at most `waitMs`) for a run in progress, so that closing the pool
 * does not cut its transaction (a shutdown right after start met the start-up run mid-way).
 */
export async function stopHousekeeping(waitMs = 5000) {
	job?.stop();
	job = null;
	if (!running) return;
	let timer: ReturnType<typeof setTimeout> | undefined;
	await Promise.race([running, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
	clearTimeout(timer);
}
