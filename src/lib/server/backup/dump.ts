// Making a backup: every backed-up table in one consistent snapshot, encoded and written.
//
// What is in a backup, and why:
// - "User", "AppSettings" and "AuditEvent". The accounts and settings are the point; the audit
//   trail is history an admin wants back after a disaster (who linked what, when).
// - Not "Session" or "UsedSignInFlow": short-lived and bound to browsers; a restore ends every
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
import type postgres from 'postgres';
import { open } from '../crypto';
import { sql } from '../db';
import { encodeBackup } from './codec';
import { recordBackup } from './catalogue';
import { dateFromName, writeBackupFile } from './files';
import { BACKUP_TABLES, FORMAT, FORMAT_VERSION, LIMITS, type Payload } from './format';
import { applyRetention } from './retention';
import { stopping } from './stopping';

/** The names of the applied migrations: a backup carries them, a restore compares them. */
export async function appliedMigrations(tx: postgres.TransactionSql): Promise<string[]> {
	const rows = await tx<{ name: string }[]>`select name from "_Migration" order by name`;
	return rows.map((r) => r.name);
}

/**
 * A backup or restore of the largest backup (100,000 audit rows) runs statements that take
 * longer than the pool's statement_timeout (db.ts) allows an ordinary request; its transaction
 * raises it for itself. A shutdown still cancels a restore at once (stopping.ts).
 */
export async function allowLongStatements(tx: postgres.TransactionSql) {
	await tx`set local statement_timeout = '5min'`;
}

/** Every backed-up table as JSON rows, in one consistent snapshot. */
export async function dumpDatabase(passphrase: string | null): Promise<Payload> {
	return sql.begin('isolation level repeatable read read only', async (tx) => {
		await allowLongStatements(tx);
		const migrations = await appliedMigrations(tx);
		const tables = {} as Payload['tables'];
		for (const table of BACKUP_TABLES) {
			// The audit trail keeps up to what a restore accepts (LIMITS.rows): the account's history
			// first, newest first, and strangers' failed or refused sign-ins (no user named) only in
			// the room left, so that no flood of them can push the real history out of a backup.
			const source =
				table === 'AuditEvent'
					? tx`(
						select * from "AuditEvent"
						order by ("userId" is null and event like 'login.%'), id desc
						limit ${LIMITS.rows.AuditEvent}
					)`
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

/**
 * Writes a new backup with `passphrase` (none: unencrypted), records it in the list and applies
 * retention. A shutdown cancels it (stopping.ts).
 */
export async function createBackup(
	passphrase: string | null
): Promise<{ name: string; removed: string[] }> {
	stopping.throwIfAborted();
	const payload = await dumpDatabase(passphrase);
	const bytes = await encodeBackup(payload, passphrase);
	const encrypted = Boolean(passphrase);
	const name = await writeBackupFile(bytes, encrypted, stopping);
	await recordBackup({
		name,
		size: bytes.length,
		createdAt: dateFromName(name) ?? new Date(),
		encrypted
	});
	await sql`update "AppSettings" set "lastBackupAt" = now() where id = 1`;
	const removed = await applyRetention();
	return { name, removed };
}
