// The throttle's generic API, in-process against a real PostgreSQL: what later work builds on
// (TOTP and recovery codes, the Settings → Security list, first-run restore attempts per address).
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, test } from 'vitest';
import { createTestDatabase } from '../helpers/pg.js';

type Throttle = typeof import('../../src/lib/server/auth/throttle');
let throttle: Throttle;
let sql: postgres.Sql;
let closeAppPool: () => Promise<void>;

beforeAll(async () => {
	const db = await createTestDatabase(inject('pg'));
	process.env.DATABASE_URL = db.url;
	throttle = await import('../../src/lib/server/auth/throttle');
	const appDb = await import('../../src/lib/server/db');
	closeAppPool = () => appDb.sql.end();
	sql = postgres(db.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
	await sql?.end();
	await closeAppPool?.();
});
beforeEach(async () => {
	await sql`delete from "Throttle"`;
});

const restoreRule = (ip: string) => ({
	key: `restore-ip:${ip}`,
	kind: 'restore',
	maxAttempts: 5,
	windowMs: 60 * 60 * 1000
});

describe('checkAndCount over arbitrary keys', () => {
	test('100 parallel attempts on one key: exactly the limit goes ahead', async () => {
		const verdicts = await Promise.all(
			Array.from({ length: 100 }, () => throttle.checkAndCount([restoreRule('192.0.2.1')]))
		);
		expect(verdicts.filter((v) => v.allowed)).toHaveLength(5);
		const refused = verdicts.find((v) => !v.allowed);
		expect(refused).toMatchObject({ allowed: false, key: 'restore-ip:192.0.2.1' });
		if (refused && !refused.allowed) {
			expect(refused.retryAfterSeconds).toBeGreaterThan(3590);
			// Rounded up from a window another parallel statement may have opened a moment later.
			expect(refused.retryAfterSeconds).toBeLessThanOrEqual(3601);
		}
	});

	test('a refusal by the first key creates no rows for the keys behind it', async () => {
		const rules = (n: number) => [
			{ key: 'test:address:192.0.2.2', kind: 'test', maxAttempts: 3, windowMs: 60_000 },
			{ key: `test:account:user${n}`, kind: 'test', maxAttempts: 3, windowMs: 60_000 }
		];
		for (let i = 0; i < 50; i++) await throttle.checkAndCount(rules(i));
		const [{ n }] = await sql`select count(*)::int as n from "Throttle"`;
		expect(n).toBe(1 + 3);
	});

	test('listActiveThrottles names the keys that refuse and when each lifts; clearThrottle lifts one', async () => {
		for (let i = 0; i < 5; i++) await throttle.checkAndCount([restoreRule('192.0.2.3')]);
		await throttle.checkAndCount([restoreRule('192.0.2.4')]); // one attempt: not limited
		const active = await throttle.listActiveThrottles();
		expect(active.map((a) => a.key)).toEqual(['restore-ip:192.0.2.3']);
		expect(active[0]).toMatchObject({ kind: 'restore', attempts: 5, maxAttempts: 5 });
		expect(active[0].liftsAt.getTime()).toBeGreaterThan(Date.now() + 59 * 60 * 1000);

		expect(await throttle.clearThrottle('restore-ip:192.0.2.3')).toBe(true);
		expect(await throttle.clearThrottle('restore-ip:192.0.2.3')).toBe(false);
		expect(await throttle.listActiveThrottles()).toEqual([]);
		expect((await throttle.checkAndCount([restoreRule('192.0.2.3')])).allowed).toBe(true);
	});

	test('an ended window starts again from one', async () => {
		for (let i = 0; i < 6; i++) await throttle.checkAndCount([restoreRule('192.0.2.5')]);
		expect((await throttle.checkAndCount([restoreRule('192.0.2.5')])).allowed).toBe(false);
		await sql`update "Throttle" set "windowEndsAt" = now() - interval '1 second'`;
		expect((await throttle.checkAndCount([restoreRule('192.0.2.5')])).allowed).toBe(true);
		const [row] = await sql`select attempts from "Throttle" where key = 'restore-ip:192.0.2.5'`;
		expect(row.attempts).toBe(1);
	});
});

describe('secretCheckRules', () => {
	test('address, pair, then the account key; a known browser its own two: known browsers at the address, and the device', () => {
		const unknown = throttle.secretCheckRules('totp', { ip: '192.0.2.9', account: ' Admin ' });
		expect(unknown.map((r) => [r.key, r.maxAttempts])).toEqual([
			['totp:address:192.0.2.9', 20],
			['totp:pair:192.0.2.9:admin', 10],
			['totp:account:admin', 10]
		]);
		const known = throttle.secretCheckRules('password', {
			ip: '192.0.2.9',
			account: 'admin',
			device: 'dev1'
		});
		expect(known.map((r) => [r.key, r.maxAttempts])).toEqual([
			['password:known:192.0.2.9', 100],
			['password:device:dev1', 10]
		]);
	});
});

describe('checkSecret: every throttled secret check in one shape', () => {
	const who = {
		ip: '192.0.2.40',
		account: 'user:1',
		userId: null,
		refusedEvent: 'test.throttled',
		detail: { step: 'test' }
	};
	const keys = async () =>
		Object.fromEntries(
			(await sql`select key, attempts from "Throttle" order by key`).map((r) => [r.key, r.attempts])
		);

	test('wrong: a 400 with the words given, counted; right: the value back, the count given back', async () => {
		const headers: Record<string, string>[] = [];
		const event = { setHeaders: (h: Record<string, string>) => headers.push(h) };
		const wrong = await throttle.checkSecret(event, 'totp', who, async () => null, 'Wrong code.');
		expect(wrong).toEqual({ ok: false, status: 400, message: 'Wrong code.' });
		expect(await keys()).toEqual({
			'totp:account:user:1': 1,
			'totp:address:192.0.2.40': 1,
			'totp:pair:192.0.2.40:user:1': 1
		});
		const right = await throttle.checkSecret(event, 'totp', who, async () => 'yes', 'Wrong code.');
		expect(right).toEqual({ ok: true, value: 'yes' });
		// The pair key goes; the wider keys keep the stranger-visible failure, not this attempt.
		expect(await keys()).toEqual({ 'totp:account:user:1': 1, 'totp:address:192.0.2.40': 1 });
		expect(headers).toEqual([]);
	});

	test('over the limit: 429 with Retry-After and one audit row per key and window, unverified', async () => {
		await sql`delete from "AuditEvent" where event = 'test.throttled'`;
		const headers: Record<string, string>[] = [];
		const event = { setHeaders: (h: Record<string, string>) => headers.push(h) };
		let verified = 0;
		const verify = async () => {
			verified++;
			return false as const;
		};
		const answers = [];
		for (let i = 0; i < 13; i++)
			answers.push(await throttle.checkSecret(event, 'current-password', who, verify, 'No.'));
		expect(verified).toBe(10);
		expect(answers.slice(10)).toEqual(
			Array(3).fill({
				ok: false,
				status: 429,
				message: 'Too many wrong current passwords. Try again in 15 minutes.'
			})
		);
		expect(headers).toHaveLength(3);
		expect(Number(headers[0]['retry-after'])).toBeGreaterThan(890);
		const rows = await sql`
			select count, detail from "AuditEvent" where event = 'test.throttled'
		`;
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({
			count: 3,
			detail: { step: 'test', key: 'current-password:pair:192.0.2.40:user:1' }
		});
	});
});
