// The backups folder (CONFIG_DIR/backups) on this instance's disk: listing, reading, writing and
// deleting files. Only names this app generates (format.ts: isBackupName) are ever joined to the
// folder's path, so no request can reach another file. Which backups exist across instances is
// catalogue.ts's concern; this file only knows the local folder.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { config } from '../config';
import { backupError, backupName, isBackupName } from './format';

export function backupDir() {
	return path.join(config.configDir, 'backups');
}

export type BackupFile = { name: string; size: number; createdAt: Date; encrypted: boolean };

/** Backups in the folder, newest first. Files with other names are ignored. */
export async function listBackupFiles(): Promise<BackupFile[]> {
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

export function dateFromName(name: string): Date | null {
	const m = /^librariarr-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})((?:\.\d{3})?)Z/.exec(name);
	if (!m) return null;
	const date = new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}${m[5]}Z`);
	return Number.isNaN(date.getTime()) ? null : date;
}

/** The path of a backup in the folder, or null when the name is not one this app makes. */
export function backupPath(name: unknown): string | null {
	return isBackupName(name) ? path.join(backupDir(), name) : null;
}

/** The file's bytes, or null when this instance's folder does not hold it. */
export async function readLocalBackup(name: unknown): Promise<Buffer | null> {
	const file = backupPath(name);
	if (!file) return null;
	try {
		return await fs.readFile(file);
	} catch {
		return null;
	}
}

export async function deleteBackupFile(name: unknown): Promise<boolean> {
	const file = backupPath(name);
	if (!file) return false;
	try {
		await fs.unlink(file);
		return true;
	} catch {
		return false;
	}
}

/**
 * Temporary files are `.tmp-HOST-PORT-PID-UUID`: an instance that starts again removes its own
 * (a write that a kill -9 interrupted), and anyone else's once they are a day old, without ever
 * touching a write another instance sharing the folder has in progress.
 */
function tmpPrefix() {
	const host = os.hostname().replace(/[^\w.-]/g, '_');
	return `.tmp-${host}-${config.port}-`;
}
const STALE_TMP_MS = 24 * 60 * 60 * 1000;

/** Removes temporary files left by an interrupted write; returns how many went. */
export async function removeLeftoverTempFiles(now = Date.now()): Promise<number> {
	let names: string[];
	try {
		names = await fs.readdir(backupDir());
	} catch {
		return 0;
	}
	let removed = 0;
	for (const name of names.filter((n) => n.startsWith('.tmp-'))) {
		const file = path.join(backupDir(), name);
		try {
			const own = name.startsWith(tmpPrefix());
			if (!own && now - (await fs.stat(file)).mtimeMs < STALE_TMP_MS) continue;
			await fs.unlink(file);
			removed++;
		} catch {
			// gone meanwhile, or not ours to remove
		}
	}
	return removed;
}

const MB = 1024 * 1024;
const mb = (bytes: number) =>
	bytes < 10 * MB ? (bytes / MB).toFixed(1) : String(Math.round(bytes / MB));

/** What to tell the admin when the folder refused the write; null for other errors. */
async function folderProblem(error: unknown, dir: string, needed: number): Promise<string | null> {
	const code = (error as NodeJS.ErrnoException)?.code;
	if (code === 'ENOSPC' || code === 'EDQUOT') {
		let free = '?';
		try {
			const s = await fs.statfs(dir);
			free = mb(s.bavail * s.bsize);
		} catch {
			// the folder cannot even be looked at; the message says what is known
		}
		return `The backup folder (${dir}) is full: ${free} MB free, the backup needs about ${mb(needed)} MB. Nothing was written; free some space there or delete older backups.`;
	}
	if (code === 'EROFS') {
		return `The backup folder (${dir}) is on a read-only file system: the backup could not be written. Mount it writable, or set CONFIG_DIR to a writable place.`;
	}
	if (code === 'EACCES' || code === 'EPERM') {
		return `The backup folder (${dir}) is not writable by the app's user: the backup could not be written. Give that user write access to it.`;
	}
	return null;
}

/**
 * Writes a new backup file (temporary file, then an atomic link into place); returns its name.
 * On any failure, a cancellation included, the temporary file is removed; a full or read-only
 * folder is a BackupError that says so.
 */
export async function writeBackupFile(
	bytes: Buffer,
	encrypted: boolean,
	signal?: AbortSignal
): Promise<string> {
	const dir = backupDir();
	const tmp = path.join(dir, `${tmpPrefix()}${process.pid}-${crypto.randomUUID()}`);
	try {
		await fs.mkdir(dir, { recursive: true, mode: 0o700 });
		await fs.writeFile(tmp, bytes, { mode: 0o600, flag: 'wx', signal });
		const handle = await fs.open(tmp, 'r');
		try {
			await handle.sync();
		} finally {
			await handle.close();
		}
		signal?.throwIfAborted();
		// link() refuses to overwrite: two backups in the same millisecond get different names.
		for (let t = Date.now(); ; t++) {
			const name = backupName(new Date(t), encrypted);
			try {
				await fs.link(tmp, path.join(dir, name));
				return name;
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			}
		}
	} catch (error) {
		const problem = await folderProblem(error, dir, bytes.length);
		if (problem) throw backupError('folder', problem);
		throw error;
	} finally {
		await fs.unlink(tmp).catch(() => {});
	}
}
