// Backup retention: the newest "backupRetention" backups stay, older ones go (from the list, and
// from the disk that holds each: see catalogue.ts).
import { sql } from '../db';
import { deleteBackup, listBackups } from './catalogue';

/** Keeps the newest "backupRetention" backups and removes the older ones; returns their names. */
export async function applyRetention(): Promise<string[]> {
	const [row] = await sql<{ backupRetention: number }[]>`
		select "backupRetention" from "AppSettings" where id = 1
	`;
	const keep = Math.max(1, row?.backupRetention ?? 7);
	const old = (await listBackups()).slice(keep);
	for (const file of old) await deleteBackup(file.name);
	return old.map((f) => f.name);
}
