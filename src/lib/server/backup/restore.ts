// Restoring a backup into the database: one transaction replaces the backed-up tables. The file
// has been decoded and validated before (codec.ts, contents.ts); here the database decides.
import type postgres from 'postgres';
import { seal } from '../crypto';
import { sql } from '../db';
import { FIRST_USER_LOCK } from '../users';
import { allowLongStatements, appliedMigrations } from './dump';
import { backupError, type Payload } from './format';
import { cancellable } from './stopping';

type Column = { name: string; type: string };

async function tableColumns(tx: postgres.TransactionSql, table: string): Promise<Column[]> {
	return tx<Column[]>`
		select column_name as name, data_type as type from information_schema.columns
		where table_schema = current_schema() and table_name = ${table}
	`;
}

type RestoredTable = 'User' | 'AppSettings' | 'AuditEvent';

export type RestoreMode = 'settings' | 'setup';

/**
 * Replaces the backed-up tables with the payload's rows, in ONE transaction: any failure rolls
 * everything back. Every session ends (a sign-in in progress lives in its browser's cookie and
 * finishes against the restored accounts, like one started after). In 'setup' mode the restore happens
 * only while no user exists (checked under the same lock first-run setup takes).
 */
export async function restorePayload(
	payload: Payload,
	mode: RestoreMode
): Promise<{ users: number }> {
	return sql.begin(async (tx) => {
		const [{ pid }] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
		await allowLongStatements(tx);
		return cancellable(pid, () => replaceTables(tx, payload, mode));
	});
}

async function replaceTables(
	tx: postgres.TransactionSql,
	payload: Payload,
	mode: RestoreMode
): Promise<{ users: number }> {
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
	await tx`lock table "User", "AppSettings", "AuditEvent", "Session" in exclusive mode`;
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

	await tx`delete from "Session"`;
	await tx`delete from "AuditEvent"`;
	await tx`delete from "User"`;
	await tx`delete from "AppSettings"`;
	for (const table of ['User', 'AppSettings', 'AuditEvent'] as const) {
		await insertRows(tx, table, rows[table]);
	}
	for (const table of ['User', 'AuditEvent'] as const) {
		await tx`
			select setval(pg_get_serial_sequence(quote_ident(${table}), 'id'),
				coalesce((select max(id) from ${tx(table)}), 0) + 1, false)
		`;
	}
	const [{ count }] = await tx<{ count: number }[]>`select count(*)::int as count from "User"`;
	return { users: count };
}

async function insertRows(
	tx: postgres.TransactionSql,
	table: RestoredTable,
	rows: Record<string, unknown>[]
) {
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
	// Every identifier goes through postgres.js's identifier helper; each is a real column or table
	// name read from the catalogue.
	const list = tx([...used]);
	await tx`
		insert into ${tx(table)} (${list})
		select ${list} from json_populate_recordset(null::${tx(table)}, ${JSON.stringify(rows)}::text::json)
	`;
}
