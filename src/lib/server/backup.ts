// Backups: dump, files in CONFIG_DIR/backups, retention, restore.
//
// What is in a backup, and why:
// - "User", "AppSettings" and "AuditEvent". The accounts and settings are the point; the audit
//   trail is history an admin wants back after a disaster (who linked what, when).
// - Not "Session" or "LoginTransaction": short-lived and bound to browsers; a restore ends every
//   session anyway.
// - Not "Throttle": throttle counters for the last minutes, meaningless later; a restore
//   leaves the current ones alone.
// - Not "_Migration": its names go into the header; a backup whose schema this version does not
//   know is refused.
//
// Secrets sealed with the instance key (the OIDC client secret, users' Plex tokens) would not
// open on another instance, whose key differs. So at backup time they are opened with this
// instance's key; when the backup is encrypted with a passphrase they go into it as plain text
// (inside the AES-256-GCM ciphertext) and are sealed again with the restoring instance's key.
// A backup without a passphrase leaves them out (null): after restoring it, the admin enters the
// client secret again and signs in with Plex once to store a new token.
// "backupPassphrase" is never written to a backup; a restore keeps the restoring instance's own.
import fs from 'node:fs/promises';
import path from 'node:path';
import { config } from './config';
import { open, seal } from './crypto';
import { sql } from './db';
import { FIRST_USER_LOCK } from './users';
import type { Schedule } from './backup-cron';
import {
	BACKUP_TABLES,
	backupError,
	backupName,
	FORMAT,
	FORMAT_VERSION,
	encodeBackup,
	isBackupName,
	LIMITS,
	type Payload
} from './backup-format';

export const BACKUP_RUN_LOCK = 727_274_003; // arbitrary, fixed: "librariarr backup run"

export function backupDir() {
	return path.join(config.configDir, 'backups');
}

export type BackupFile = { name: string; size: number; createdAt: Date; encrypted: boolean };

/** Backups in the folder, newest first. Files with other names are ignored. */
export async function listBackups(): Promise<BackupFile[]> {
	let names: string[];
	try {
		names = await fs.readdir(backupDir());
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
		throw error;
	}
	const files: BackupFile[] = [];
	for (const name of names.filter(isBackupName).sort().reverse()) {
		try {
			const stat = await fs.stat(path.join(backupDir(), name));
			if (!stat.isFile()) continue;
			files.push({
				name,
				size: stat.size,
				createdAt: dateFromName(name) ?? stat.mtime,
				encrypted: name.endsWith('.enc')
			});
		} catch {
			// removed meanwhile
		}
	}
	return files;
}

function dateFromName(name: string): Date | null {
	const m = /^librariarr-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})((?:\.\d{3})?)Z/.exec(name);
	if (!m) return null;
	const date = new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}${m[5]}Z`);
	return Number.isNaN(date.getTime()) ? null : date;
}

/** The path of a backup in the folder, or null when the name is not one this app makes. */
export function backupPath(name: unknown): string | null {
	return isBackupName(name) ? path.join(backupDir(), name) : null;
}

export async function readBackupFile(name: unknown): Promise<Buffer> {
	const file = backupPath(name);
	if (!file) throw backupError('not_backup', 'No such backup.');
	try {
		return await fs.readFile(file);
	} catch {
		throw backupError('not_backup', 'No such backup.');
	}
}

export async function deleteBackup(name: unknown): Promise<boolean> {
	const file = backupPath(name);
	if (!file) return false;
	try {
		await fs.unlink(file);
		return true;
	} catch {
		return false;
	}
}

async function appliedMigrations(tx: typeof sql = sql): Promise<string[]> {
	const rows = await tx<{ name: string }[]>`select name from "_Migration" order by name`;
	return rows.map((r) => r.name);
}

/** Every backed-up table as JSON rows, in one consistent snapshot. */
export async function dumpDatabase(passphrase: string | null): Promise<Payload> {
	return sql.begin('isolation level repeatable read read only', async (tx) => {
		const migrations = await appliedMigrations(tx as unknown as typeof sql);
		const tables = {} as Payload['tables'];
		for (const table of BACKUP_TABLES) {
			// The audit trail keeps its newest rows up to what a restore accepts (LIMITS.rows).
			const source =
				table === 'AuditEvent'
					? tx`(select * from "AuditEvent" order by id desc limit ${LIMITS.rows.AuditEvent})`
					: tx(table);
			// to_json keeps every value exactly (timestamps to the microsecond, jsonb as is).
			const [{ rows }] = await tx<{ rows: Record<string, unknown>[] }[]>`
				select coalesce(json_agg(to_json(t) order by t.id), '[]'::json) as rows
				from ${source} t
			`;
			tables[table] = rows;
		}
		const include = Boolean(passphrase);
		for (const user of tables.User) {
			user.plexToken = include ? open(user.plexToken as string) : null;
			// The TOTP secret travels like the Plex token; one half-way through setup does not.
			user.totpSecret = include ? open(user.totpSecret as string) : null;
			user.totpPendingSecret = null;
		}
		for (const s of tables.AppSettings) {
			s.oidcClientSecret = include ? open(s.oidcClientSecret as string) : null;
			s.backupPassphrase = null;
		}
		return {
			format: FORMAT,
			version: FORMAT_VERSION,
			createdAt: new Date().toISOString(),
			migrations,
			secrets: include ? 'included' : 'omitted',
			tables
		};
	});
}

/** The passphrase scheduled (and, by default, manual) backups are encrypted with. */
export async function savedPassphrase(): Promise<string | null> {
	const [row] = await sql<{ backupPassphrase: string | null }[]>`
		select "backupPassphrase" from "AppSettings" where id = 1
	`;
	return open(row?.backupPassphrase);
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

/** Writes a new backup (temporary file, then an atomic link into place) and applies retention. */
export async function createBackup(
	passphrase: string | null
): Promise<{ name: string; removed: string[] }> {
	const payload = await dumpDatabase(passphrase);
	const bytes = await encodeBackup(payload, passphrase);
	const dir = backupDir();
	await fs.mkdir(dir, { recursive: true, mode: 0o700 });
	const tmp = path.join(dir, `.tmp-${process.pid}-${crypto.randomUUID()}`);
	await fs.writeFile(tmp, bytes, { mode: 0o600, flag: 'wx' });
	let name = '';
	try {
		const handle = await fs.open(tmp, 'r');
		await handle.sync();
		await handle.close();
		// link() refuses to overwrite: two backups in the same millisecond get different names.
		for (let t = Date.now(); ; t++) {
			name = backupName(new Date(t), Boolean(passphrase));
			try {
				await fs.link(tmp, path.join(dir, name));
				break;
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			}
		}
	} finally {
		await fs.unlink(tmp).catch(() => {});
	}
	await sql`update "AppSettings" set "lastBackupAt" = now() where id = 1`;
	const removed = await applyRetention();
	return { name, removed };
}

/** Keeps the newest "backupRetention" backups and removes the older ones. */
export async function applyRetention(): Promise<string[]> {
	const [row] = await sql<{ backupRetention: number }[]>`
		select "backupRetention" from "AppSettings" where id = 1
	`;
	const keep = Math.max(1, row?.backupRetention ?? 7);
	const old = (await listBackups()).slice(keep);
	for (const file of old) await deleteBackup(file.name);
	return old.map((f) => f.name);
}

function quoteIdent(name: string) {
	return `"${name.replace(/"/g, '""')}"`;
}

type Column = { name: string; type: string };

async function tableColumns(tx: typeof sql, table: string): Promise<Column[]> {
	return tx<Column[]>`
		select column_name as name, data_type as type from information_schema.columns
		where table_schema = current_schema() and table_name = ${table}
	`;
}

export type RestoreMode = 'settings' | 'setup';

/**
 * Replaces the backed-up tables with the payload's rows, in ONE transaction: any failure rolls
 * everything back. Every session and login in flight ends. In 'setup' mode the restore happens
 * only while no user exists (checked under the same lock first-run setup takes).
 */
export async function restorePayload(
	payload: Payload,
	mode: RestoreMode
): Promise<{ users: number }> {
	return sql.begin(async (txRaw) => {
		const tx = txRaw as unknown as typeof sql;
		if (mode === 'setup') {
			await tx`select pg_advisory_xact_lock(${FIRST_USER_LOCK})`;
			const [existing] = await tx`select 1 from "User" limit 1`;
			if (existing) {
				throw backupError(
					'refused',
					'Setup has already been completed: restore from Settings → Backups instead.'
				);
			}
		}
		if (payload.tables.User.length === 0) {
			throw backupError(
				'damaged',
				'This backup has no users: restoring it would leave nobody to sign in.'
			);
		}
		const known = new Set(await appliedMigrations(tx));
		const unknown = payload.migrations.filter((m) => !known.has(m));
		if (unknown.length) {
			throw backupError(
				'future_version',
				`This backup was made with a newer database schema (${unknown.join(', ')}). Update Librariarr before restoring it.`
			);
		}
		await tx`lock table "User", "AppSettings", "AuditEvent", "Session", "LoginTransaction" in exclusive mode`;
		const [current] = await tx<{ backupPassphrase: string | null }[]>`
			select "backupPassphrase" from "AppSettings" where id = 1
		`;

		const rows = structuredClone(payload.tables);
		const resealed = (value: unknown) =>
			payload.secrets === 'included' && typeof value === 'string' ? seal(value) : null;
		for (const user of rows.User) {
			user.plexToken = resealed(user.plexToken);
			// Without the secret, TOTP is off after the restore (the password alone signs in).
			if ('totpSecret' in user) user.totpSecret = resealed(user.totpSecret);
			if ('totpPendingSecret' in user) user.totpPendingSecret = null;
		}
		for (const s of rows.AppSettings) {
			s.oidcClientSecret =
				payload.secrets === 'included' && typeof s.oidcClientSecret === 'string'
					? seal(s.oidcClientSecret)
					: null;
			s.backupPassphrase = current?.backupPassphrase ?? null;
		}

		await tx`delete from "LoginTransaction"`;
		await tx`delete from "Session"`;
		await tx`delete from "AuditEvent"`;
		await tx`delete from "User"`;
		await tx`delete from "AppSettings"`;
		for (const table of ['User', 'AppSettings', 'AuditEvent'] as const) {
			await insertRows(tx, table, rows[table]);
		}
		for (const table of ['User', 'AuditEvent'] as const) {
			await tx`
				select setval(pg_get_serial_sequence(${`"${table}"`}, 'id'),
					coalesce((select max(id) from ${tx(table)}), 0) + 1, false)
			`;
		}
		const [{ count }] = await tx<{ count: number }[]>`select count(*)::int as count from "User"`;
		return { users: count };
	});
}

async function insertRows(tx: typeof sql, table: string, rows: Record<string, unknown>[]) {
	if (!rows.length) return;
	const columns = await tableColumns(tx, table);
	const names = new Set(columns.map((c) => c.name));
	const used = new Set<string>();
	for (const row of rows) {
		for (const key of Object.keys(row)) {
			if (!names.has(key)) {
				throw backupError(
					'future_version',
					`This backup has a column this version does not know ("${table}"."${key}"). Update Librariarr before restoring it.`
				);
			}
			used.add(key);
		}
	}
	// Only the columns the backup has: a column added by a later migration keeps its default.
	// json_populate_recordset turns the JSON back into typed values (timestamps, jsonb) exactly.
	// Every identifier below is a real column or table name read from the catalogue, quoted.
	const list = [...used].map(quoteIdent).join(', ');
	const target = quoteIdent(table);
	await tx.unsafe(
		`insert into ${target} (${list}) select ${list} from json_populate_recordset(null::${target}, $1::text::json)`,
		[JSON.stringify(rows)]
	);
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
