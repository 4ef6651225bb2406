// Forward-only migrations: numbered files in sql/, each applied once, in order, in its own
// transaction. Every transaction first takes one advisory lock, so two instances starting
// together apply each file exactly once. A file whose text changed after it was applied stops
// the start-up: editing history is how schemas drift apart between installations.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const LOCK_KEY = 727_274_001; // arbitrary, fixed: "librariarr migrations"

/** @param {string} dir */
export function readMigrations(dir) {
	return fs
		.readdirSync(dir)
		.filter((name) => /^\d{4}_[\w-]+\.sql$/.test(name))
		.sort()
		.map((name) => {
			const text = fs.readFileSync(path.join(dir, name), 'utf8');
			return { name, text, checksum: createHash('sha256').update(text).digest('hex') };
		});
}

/**
 * @param {import('postgres').Sql} sql
 * @param {{ dir?: string, log?: (message: string) => void }} [options]
 * @returns {Promise<string[]>} the names of the files applied by this call
 */
export async function migrate(sql, { dir = path.resolve('sql'), log = () => {} } = {}) {
	const files = readMigrations(dir);
	/** @type {string[]} */
	const applied = [];
	for (const file of files) {
		const done = await sql.begin(async (tx) => {
			await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
			await tx`
				create table if not exists "_Migration" (
					name text primary key,
					checksum text not null,
					"appliedAt" timestamptz not null default now()
				)
			`;
			const [row] = await tx`select checksum from "_Migration" where name = ${file.name}`;
			if (row) {
				if (row.checksum !== file.checksum) {
					throw new Error(
						`Migration ${file.name} was edited after it was applied (checksum differs). ` +
							`Restore the original file; changes belong in a new numbered file.`
					);
				}
				return false;
			}
			await tx.unsafe(file.text); // trusted: a file shipped with the app, never user input
			await tx`insert into "_Migration" (name, checksum) values (${file.name}, ${file.checksum})`;
			return true;
		});
		if (done) {
			applied.push(file.name);
			log(`Applied migration ${file.name}`);
		}
	}
	// Files that were applied but no longer ship mean this database is newer than the app.
	const known = new Set(files.map((f) => f.name));
	const rows = await sql`select name from "_Migration" order by name`;
	const unknown = rows.map((r) => r.name).filter((name) => !known.has(name));
	if (unknown.length) {
		throw new Error(
			`The database has migrations this version does not know (${unknown.join(', ')}). ` +
				`It was used by a newer Librariarr; upgrade instead of downgrading.`
		);
	}
	return applied;
}
