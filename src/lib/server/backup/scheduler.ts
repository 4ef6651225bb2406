// Scheduled backups, in process. A croner job ticks every few seconds and reads the schedule
// from "AppSettings" each time, so a change made in the settings (on any instance) takes effect
// at the next tick, without a restart. A backup is due when the schedule has an occurrence after
// the last backup ("lastBackupAt", or the start of this process when there never was one) and
// not after now. The run itself happens under pg_try_advisory_lock and re-reads "lastBackupAt"
// under the lock, so with several instances exactly one of them makes a given backup.
// Every sixth tick (a minute, by default) each instance also removes the files of backups
// deleted on another instance from its own folder (catalogue.ts). A run that failed (a full
// backup folder, say) is tried again after 30 ticks (five minutes), not at every tick: one log
// line and one database dump per try, not six a minute.
import { Cron } from 'croner';
import { audit } from '../audit';
import { log } from '../log';
import { tidyBackupFolder } from './catalogue';
import { isDue, schedulePattern } from '../../cron';
import { runLockedBackup, scheduleState } from './schedule';

let ticker: Cron | null = null;
const startedAt = new Date();
let ticks = 0;
let failedAt = -Infinity;
const RETRY_TICKS = 30;

async function tick() {
	if (++ticks % 6 === 0) {
		await tidyBackupFolder(false).catch((error) =>
			log.warn('Could not tidy the backup folder', { error: String(error) })
		);
	}
	if (ticks - failedAt < RETRY_TICKS) return;
	const row = await scheduleState();
	if (!row) return;
	const pattern = schedulePattern(row.backupSchedule, row.backupCron);
	if (!pattern) return;
	const due = (last: Date | null) => isDue(pattern, last ?? startedAt, new Date());
	if (!due(row.lastBackupAt)) return;
	let result: Awaited<ReturnType<typeof runLockedBackup>>;
	try {
		result = await runLockedBackup(due);
	} catch (error) {
		failedAt = ticks;
		throw error;
	}
	if (result.ran) {
		await audit({
			event: 'backup.created',
			detail: { name: result.name ?? null, scheduled: true }
		});
	}
}

/** Ten seconds; BACKUP_TICK_SECONDS (1–59) is the tests' clock seam, so that they need not wait. */
function tickSeconds() {
	const n = Number(process.env.BACKUP_TICK_SECONDS);
	return Number.isInteger(n) && n >= 1 && n <= 59 ? n : 10;
}

export function startBackupScheduler(everySeconds = tickSeconds()) {
	if (ticker) return;
	ticker = new Cron(`*/${everySeconds} * * * * *`, { protect: true }, () =>
		tick().catch((error) => log.error('Scheduled backup failed', { error: String(error) }))
	);
	log.info('Backup scheduler started');
}

export function stopBackupScheduler() {
	ticker?.stop();
	ticker = null;
}
