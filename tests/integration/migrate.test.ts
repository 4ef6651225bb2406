import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { migrate } from '../../src/lib/server/plain/migrate.js';
import { withDatabase } from '../helpers/pg.js';

const pg = inject('pg');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

async function emptyDatabase() {
	const name = `${pg.prefix}_m${Math.random().toString(36).slice(2, 8)}`;
	const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} });
	await admin.unsafe(`create database "${name}"`);
	await admin.end();
	const url = withDatabase(pg.adminUrl, name);
	const sql = postgres(url, { max: 5, onnotice: () => {} });
	cleanups.push(() => sql.end());
	return { url, sql };
}

function copyOfSql() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-sql-'));
	for (const f of fs.readdirSync('sql')) fs.copyFileSync(path.join('sql', f), path.join(dir, f));
	cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
	return dir;
}

describe('migrations', () => {
	test('apply each file once, in order; a second run applies nothing', async () => {
		const { sql } = await emptyDatabase();
		const files = fs
			.readdirSync('sql')
			.filter((f) => f.endsWith('.sql'))
			.sort();
		expect(await migrate(sql)).toEqual(files);
		expect(await migrate(sql)).toEqual([]);
		const [settings] = await sql`select count(*)::int as n from "AppSettings"`;
		expect(settings.n).toBe(1);
	});

	test('two instances migrating at once do not race', async () => {
		const { url } = await emptyDatabase();
		const a = postgres(url, { max: 2, onnotice: () => {} });
		const b = postgres(url, { max: 2, onnotice: () => {} });
		cleanups.push(async () => {
			await a.end();
			await b.end();
		});
		const [first, second] = await Promise.all([migrate(a), migrate(b)]);
		expect([...first, ...second].sort()).toEqual(
			fs
				.readdirSync('sql')
				.filter((f) => f.endsWith('.sql'))
				.sort()
		);
		const rows = await a`select name from "_Migration"`;
		expect(rows.length).toBe(first.length + second.length);
	});

	test('refuses to start when an applied file was edited', async () => {
		const { sql } = await emptyDatabase();
		const dir = copyOfSql();
		await migrate(sql, { dir });
		fs.appendFileSync(path.join(dir, '0001_init.sql'), '\n-- an innocent-looking edit\n');
		await expect(migrate(sql, { dir })).rejects.toThrow(
			/0001_init\.sql was edited after it was applied/
		);
	});

	test('a new numbered file is applied on the next run, and a failing one changes nothing', async () => {
		const { sql } = await emptyDatabase();
		const dir = copyOfSql();
		await migrate(sql, { dir });
		fs.writeFileSync(path.join(dir, '9998_ok.sql'), 'create table "Extra" (id int);');
		fs.writeFileSync(
			path.join(dir, '9999_bad.sql'),
			'create table "Half" (id int);\nselect nonsense from nowhere;'
		);
		await expect(migrate(sql, { dir })).rejects.toThrow();
		const tables =
			await sql`select table_name from information_schema.tables where table_name in ('Extra', 'Half')`;
		expect(tables.map((t) => t.table_name)).toEqual(['Extra']);
		const names = await sql`select name from "_Migration" order by name`;
		expect(names.map((n) => n.name)).toContain('9998_ok.sql');
		expect(names.map((n) => n.name)).not.toContain('9999_bad.sql');
	});

	test('npm run migrate applies the migrations on its own', async () => {
		const { url, sql } = await emptyDatabase();
		const run = spawnSync('npm', ['run', '--silent', 'migrate'], {
			env: { ...process.env, DATABASE_URL: url },
			encoding: 'utf8'
		});
		expect(run.status, run.stderr).toBe(0);
		expect(run.stdout).toContain('Applied migration 0001_init.sql');
		const [row] = await sql`select count(*)::int as n from "_Migration"`;
		expect(row.n).toBeGreaterThan(0);
		const again = spawnSync('npm', ['run', '--silent', 'migrate'], {
			env: { ...process.env, DATABASE_URL: url },
			encoding: 'utf8'
		});
		expect(again.stdout).toContain('Database is up to date.');
	});
});
