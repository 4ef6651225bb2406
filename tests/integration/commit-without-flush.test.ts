// commitWithoutFlush (db.ts): a sign-in's bookkeeping commits without waiting for the disk, and
// only that statement's transaction does: the next statement on the same connection commits as
// PostgreSQL is configured (synchronous_commit back to its own value).
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createTestDatabase } from '../helpers/pg.js';

type Db = typeof import('../../src/lib/server/db');
let db: Db;

beforeAll(async () => {
	const made = await createTestDatabase(inject('pg'));
	process.env.DATABASE_URL = made.url;
	db = await import('../../src/lib/server/db');
});
afterAll(async () => {
	await db?.sql.end();
});

test('inside the statement the commit does not wait; the next statement on the connection does', async () => {
	const connection = await db.sql.reserve();
	try {
		const [before] = await connection`select current_setting('synchronous_commit') as value`;
		expect(before.value).toBe('on');
		const [inside] = await connection`
			select ${db.commitWithoutFlush()} as relaxed,
				current_setting('synchronous_commit') as value`;
		expect(inside).toEqual({ relaxed: true, value: 'off' });
		const [after] = await connection`select current_setting('synchronous_commit') as value`;
		expect(after.value).toBe('on');
	} finally {
		connection.release();
	}
});

test('in a transaction of several statements it holds to the end of that transaction only', async () => {
	const connection = await db.sql.reserve();
	try {
		await connection.unsafe('begin');
		await connection`select ${db.commitWithoutFlush()}`;
		const [later] = await connection`select current_setting('synchronous_commit') as value`;
		expect(later.value).toBe('off');
		await connection.unsafe('commit');
		const [next] = await connection`select current_setting('synchronous_commit') as value`;
		expect(next.value).toBe('on');
	} finally {
		connection.release();
	}
});
