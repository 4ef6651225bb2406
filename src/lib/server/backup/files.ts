// The backups folder (CONFIG_DIR/backups): listing, reading, writing and deleting files. Only
// names this app generates (format.ts: isBackupName) are ever joined to the folder's path, so no
// request can reach another file.
import fs from 'node:fs/promises';
import path from 'node:path';
import { config } from '../config';
import { backupError, backupName, isBackupName } from './format';

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

/** Writes a new backup file (temporary file, then an atomic link into place); returns its name. */
export async function writeBackupFile(bytes: Buffer, encrypted: boolean): Promise<string> {
	const dir = backupDir();
	await fs.mkdir(dir, { recursive: true, mode: 0o700 });
	const tmp = path.join(dir, `.tmp-${process.pid}-${crypto.randomUUID()}`);
	await fs.writeFile(tmp, bytes, { mode: 0o600, flag: 'wx' });
	try {
		const handle = await fs.open(tmp, 'r');
		await handle.sync();
		await handle.close();
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
	} finally {
		await fs.unlink(tmp).catch(() => {});
	}
}
