// The list of backups, kept in the database ("Backup") so that every instance on one database
// lists every backup, whichever instance's disk holds its file, and says so when it is not this
// one's. A file in the local folder that the list does not know (copied in by hand, or written
// before the list existed) is listed too, and recorded at the next start.
//
// Deleting a backup (by hand or by retention) marks its row deleted, and removes the file when it
// is on this disk; the instance whose disk holds it removes it there at its next sweep (every
// minute, from the scheduler's ticker) or start. Housekeeping drops marked rows after 7 days.
import os from 'node:os';
import { sql } from '../db';
import { instanceName } from '../instance';
import {
	dateFromName,
	deleteBackupFile,
	listBackupFiles,
	readLocalBackup,
	removeLeftoverTempFiles,
	type BackupFile
} from './files';
import { backupError, isBackupName } from './format';

export type ListedBackup = BackupFile & {
	/** The instance that wrote it ("host:port"). */
	instance: string;
	/** Whether this instance's backup folder holds the file. */
	here: boolean;
};

type Row = {
	name: string;
	size: string;
	encrypted: boolean;
	createdAt: Date;
	instance: string;
	deletedAt: Date | null;
};

/** Records a backup this instance just wrote. */
export async function recordBackup(file: BackupFile, db: typeof sql = sql) {
	await db`
		insert into "Backup" (name, size, encrypted, "createdAt", instance)
		values (${file.name}, ${file.size}, ${file.encrypted}, ${file.createdAt}, ${instanceName()})
		on conflict (name) do nothing
	`;
}

async function rows(db: typeof sql = sql) {
	return db<Row[]>`select name, size, encrypted, "createdAt", instance, "deletedAt" from "Backup"`;
}

/** Every backup, newest first: the list's, and local files the list does not know. */
export async function listBackups(): Promise<ListedBackup[]> {
	const [known, local] = await Promise.all([rows(), listBackupFiles()]);
	const here = new Set(local.map((f) => f.name));
	const names = new Set(known.map((r) => r.name));
	const listed: ListedBackup[] = known
		.filter((r) => !r.deletedAt)
		.map((r) => ({
			name: r.name,
			size: Number(r.size),
			encrypted: r.encrypted,
			createdAt: r.createdAt,
			instance: r.instance,
			here: here.has(r.name)
		}));
	for (const f of local) {
		if (!names.has(f.name)) listed.push({ ...f, instance: instanceName(), here: true });
	}
	return listed.sort(
		(a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.name.localeCompare(a.name)
	);
}

/** The file's bytes from this instance's folder; a refusal that says where it is otherwise. */
export async function readBackupFile(name: unknown): Promise<Buffer> {
	if (!isBackupName(name)) throw backupError('not_backup', 'No such backup.');
	const bytes = await readLocalBackup(name);
	if (bytes) return bytes;
	const [row] = await sql<{ instance: string }[]>`
		select instance from "Backup" where name = ${name} and "deletedAt" is null
	`;
	if (!row) throw backupError('not_backup', 'No such backup.');
	throw backupError('elsewhere', notHere(name, row.instance));
}

export function notHere(name: string, instance: string) {
	return `Backup ${name} is on the disk of the instance that wrote it (${instance}), not on this instance's (${os.hostname()}). Use it from that instance, or give every instance one shared volume for the backup folder.`;
}

/** Removes a backup from the list, and its file when it is on this disk. */
export async function deleteBackup(name: unknown): Promise<boolean> {
	if (!isBackupName(name)) return false;
	const marked = await sql`
		update "Backup" set "deletedAt" = now() where name = ${name} and "deletedAt" is null
	`;
	const removed = await deleteBackupFile(name);
	return marked.count > 0 || removed;
}

/**
 * Removes the local files of backups deleted elsewhere; at start (`atStart`) also the temporary
 * files an interrupted write left, and records local files the list does not know.
 */
export async function tidyBackupFolder(atStart: boolean, db: typeof sql = sql) {
	const tempFiles = atStart ? await removeLeftoverTempFiles() : 0;
	const local = await listBackupFiles();
	if (!local.length) return { tempFiles, deleted: 0, recorded: 0 };
	const known = await db<{ name: string; deletedAt: Date | null }[]>`
		select name, "deletedAt" from "Backup" where name = any(${local.map((f) => f.name)})
	`;
	const state = new Map(known.map((r) => [r.name, r.deletedAt]));
	let deleted = 0;
	let recorded = 0;
	for (const file of local) {
		if (state.get(file.name)) {
			if (await deleteBackupFile(file.name)) deleted++;
		} else if (atStart && !state.has(file.name)) {
			await recordBackup({ ...file, createdAt: dateFromName(file.name) ?? file.createdAt }, db);
			recorded++;
		}
	}
	return { tempFiles, deleted, recorded };
}

/** Deleted backups' rows older than 7 days (their files are long gone); returns how many. */
export async function purgeDeletedBackups(db: typeof sql = sql): Promise<number> {
	const result = await db`
		delete from "Backup" where "deletedAt" < now() - interval '7 days'
	`;
	return result.count;
}
