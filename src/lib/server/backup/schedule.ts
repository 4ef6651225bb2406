// The backup schedule kept in "AppSettings" (how often, how many to keep, the sealed passphrase)
// and the lock a scheduled run takes, so that with several instances on one database exactly one
// of them makes a given backup.
import { open, seal } from '../crypto';
import { sql } from '../db';
import type { Schedule } from '../../cron';
import { createBackup } from './dump';
import { applyRetention } from './retention';

export const BACKUP_RUN_LOCK = 727_274_003; // arbitrary, fixed: "librariarr backup run"

/** The passphrase scheduled (and, by default, manual) backups are encrypted with. */
export async function savedPassphrase(): Promise<string | null> {
	const [row] = await sql<{ backupPassphrase: string | null }[]>`
		select "backupPassphrase" from "AppSettings" where id = 1
	`;
	return open(row?.backupPassphrase);
}

/** A backup made from Settings → Backups: with the typed passphrase, else the saved one. */
export async function createManualBackup(passphrase: string) {
	const used = passphrase || (await savedPassphrase());
	return { ...(await createBackup(used)), encrypted: Boolean(used) };
}

/** What the scheduler needs at each tick: the schedule and when the last backup was made. */
export async function scheduleState() {
	const [row] = await sql<
		{ backupSchedule: string; backupCron: string | null; lastBackupAt: Date | null }[]
	>`select "backupSchedule", "backupCron", "lastBackupAt" from "AppSettings" where id = 1`;
	return row ?? null;
}

export type ScheduleSettings = {
	schedule: Schedule;
	cron: string;
	retention: number;
	hasPassphrase: boolean;
	lastBackupAt: Date | null;
};

/** The schedule as Settings → Backups shows it (the passphrase only as "one is saved"). */
export async function getBackupSchedule(): Promise<ScheduleSettings> {
	const [row] = await sql<
		{
			backupSchedule: Schedule;
			backupCron: string | null;
			backupRetention: number;
			hasPassphrase: boolean;
			lastBackupAt: Date | null;
		}[]
	>`
		select "backupSchedule", "backupCron", "backupRetention",
			"backupPassphrase" is not null as "hasPassphrase", "lastBackupAt"
		from "AppSettings" where id = 1
	`;
	return {
		schedule: row.backupSchedule,
		cron: row.backupCron ?? '',
		retention: row.backupRetention,
		hasPassphrase: row.hasPassphrase,
		lastBackupAt: row.lastBackupAt
	};
}

export type ScheduleChange = {
	schedule: Schedule;
	/** Kept only when the schedule is 'cron'. */
	cron: string;
	retention: number;
	/** A new passphrase; empty keeps the saved one unless `clearPassphrase`. */
	passphrase: string;
	clearPassphrase: boolean;
};

/**
 * Saves the schedule in one transaction that holds the settings row lock (as every settings
 * change does), then applies the new retention. Returns the backups retention removed.
 */
export async function saveBackupSchedule(change: ScheduleChange): Promise<string[]> {
	const { schedule, cron, retention, passphrase, clearPassphrase } = change;
	await sql.begin(async (tx) => {
		await tx`select 1 from "AppSettings" where id = 1 for update`;
		const sealed = passphrase ? seal(passphrase) : null;
		await tx`
			update "AppSettings" set
				"backupSchedule" = ${schedule},
				"backupCron" = ${schedule === 'cron' ? cron : null},
				"backupRetention" = ${retention},
				"backupPassphrase" = ${sealed ?? (clearPassphrase ? null : tx`"backupPassphrase"`)},
				"updatedAt" = now()
			where id = 1
		`;
	});
	return applyRetention();
}

/** Runs one scheduled backup, unless another instance holds the run lock. */
export async function runLockedBackup(
	isDue: (lastBackupAt: Date | null) => boolean
): Promise<{ ran: boolean; name?: string }> {
	const conn = await sql.reserve();
	try {
		const [{ locked }] = await conn<{ locked: boolean }[]>`
			select pg_try_advisory_lock(${BACKUP_RUN_LOCK}) as locked
		`;
		if (!locked) return { ran: false };
		try {
			// Read again under the lock: another instance may have just run this occurrence.
			const [row] = await conn<{ lastBackupAt: Date | null }[]>`
				select "lastBackupAt" from "AppSettings" where id = 1
			`;
			if (!isDue(row?.lastBackupAt ?? null)) return { ran: false };
			const { name } = await createBackup(await savedPassphrase());
			return { ran: true, name };
		} finally {
			await conn`select pg_advisory_unlock(${BACKUP_RUN_LOCK})`;
		}
	} finally {
		conn.release();
	}
}
