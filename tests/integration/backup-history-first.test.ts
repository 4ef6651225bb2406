// A backup holds at most LIMITS.rows.AuditEvent audit rows. Strangers' failed sign-ins (rows
// naming no user) must not push the account's own history out: the account's rows go in first,
// newest first, and anonymous ones only fill the room left. In-process, against a real PostgreSQL.
import postgres from 'postgres';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createTestDatabase } from '../helpers/pg.js';
import { insertAdmin } from '../helpers/app';

type Dump = typeof import('../../src/lib/server/backup/dump');
type Format = typeof import('../../src/lib/server/backup/format');
let dump: Dump;
let format: Format;
let sql: postgres.Sql;
let closeAppPool: () => Promise<void>;

beforeAll(async () => {
	const db = await createTestDatabase(inject('pg'));
	process.env.DATABASE_URL = db.url;
	process.env.SECRET_KEY = 'backup-history-first';
	dump = await import('../../src/lib/server/backup/dump');
	format = await import('../../src/lib/server/backup/format');
	const appDb = await import('../../src/lib/server/db');
	closeAppPool = () => appDb.sql.end();
	sql = postgres(db.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
	await sql?.end();
	await closeAppPool?.();
});

test('a flood of anonymous failures newer than the account history leaves that history in the backup', async () => {
	const userId = await insertAdmin(sql);
	await sql`
		insert into "AuditEvent" ("occurredAt", event, "userId", method, ip)
		select now() - interval '1 day' + make_interval(secs => n), 'login.succeeded', ${userId},
			'local', '203.0.113.5'
		from generate_series(1, 5) n
	`;
	const cap = format.LIMITS.rows.AuditEvent;
	await sql`
		insert into "AuditEvent" (event, method, ip, detail)
		select 'login.failed', 'oidc', '198.51.100.' || (n % 250), '{"reason":"state_mismatch"}'
		from generate_series(1, ${cap}) n
	`;
	const payload = await dump.dumpDatabase(null);
	const rows = payload.tables.AuditEvent as { event: string; userId: number | null }[];
	expect(rows).toHaveLength(cap);
	expect(rows.filter((r) => r.event === 'login.succeeded' && r.userId === userId)).toHaveLength(5);
});
