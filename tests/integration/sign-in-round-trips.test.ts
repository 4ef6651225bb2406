// A local sign-in costs the database three round trips: the request's session lookup (every
// request has it), one statement before the password is checked (settings, account, throttle
// count) and one after it (throttle give-back, session, audit row). The authenticator-code step
// of an account with TOTP on costs the same three. Counted on the wire, by a proxy between the
// built server and PostgreSQL that records every statement it runs.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { browser, freshDatabase, insertAdmin } from '../helpers/app';
import { startStatementLog, type StatementLog } from '../helpers/pg-statements';
import { startServer } from '../helpers/server.js';

const SECRET_KEY = 'round trips';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

let db: Awaited<ReturnType<typeof freshDatabase>>;
let log: StatementLog;
let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
	db = await freshDatabase();
	await insertAdmin(db.sql);
	log = await startStatementLog(db.url);
	server = await startServer({ databaseUrl: log.url, env: { LOG_LEVEL: 'warn', SECRET_KEY } });
});
afterAll(async () => {
	await server?.stop();
	await log?.stop();
	await db?.sql.end();
});

/** Statements and round trips of one request. */
async function measure(request: () => Promise<Response>) {
	const first = log.statements.length;
	const trips = log.roundTrips();
	const res = await request();
	expect(res.status).toBe(303);
	return { statements: log.statements.slice(first), roundTrips: log.roundTrips() - trips };
}

/**
 * The cheapest of several sign-ins: a connection's first use of a statement costs PostgreSQL a
 * describe round trip, and the backup scheduler may query in the middle of one.
 */
async function cheapest(
	signIn: () => Promise<Response>,
	/** What each sign-in needs first, not counted (a browser waiting for its code). */
	prepare: () => Promise<void> = async () => {}
) {
	for (let i = 0; i < 12; i++) {
		await prepare();
		await signIn(); // every pooled connection has seen the statements
	}
	const runs = [];
	for (let i = 0; i < 5; i++) {
		await prepare();
		runs.push(await measure(signIn));
	}
	return runs.reduce((best, run) =>
		run.statements.length + run.roundTrips < best.statements.length + best.roundTrips ? run : best
	);
}

describe('round trips of a local sign-in', () => {
	test('a new browser: the session lookup, one statement before the password, one after', async () => {
		const run = await cheapest(() => browser(server.url).signIn());
		expect(run.statements, run.statements.join('\n')).toHaveLength(3);
		expect(run.roundTrips).toBe(3);
		const [lookup, before, after] = run.statements;
		expect(lookup).toContain('"Session"');
		// Both writes commit without waiting for the disk (db.ts, commitWithoutFlush); the lookup
		// writes nothing.
		const relaxed = "set_config('synchronous_commit', 'off', true)";
		for (const part of ['"AppSettings"', '"passwordHash"', 'insert into "Throttle"', relaxed])
			expect(before).toContain(part);
		for (const part of [
			'delete from "Throttle"',
			'insert into "AuditEvent"',
			'insert into "Session"',
			relaxed
		])
			expect(after).toContain(part);
		expect(lookup).not.toContain('synchronous_commit');
	});

	test('a signed-in browser signing in again ends its old session in the same statement', async () => {
		const b = browser(server.url);
		const run = await cheapest(() => b.signIn());
		expect(run.statements, run.statements.join('\n')).toHaveLength(3);
		expect(run.roundTrips).toBe(3);
		expect(run.statements[2]).toContain('delete from "Session"');
		const [{ n }] = await db.sql`select count(*)::int as n from "Session"`;
		// One live session for this browser, plus the first test's twelve-and-five.
		expect(n).toBe(18);
	});
});

describe('round trips of the authenticator-code step', () => {
	test('the session lookup, one statement before the code, one after', async () => {
		const id = await insertAdmin(db.sql, { username: 'coder', displayName: 'Cody' });
		await db.sql`
			update "User" set "totpSecret" = ${seal(TOTP_SECRET, loadKey({ SECRET_KEY }))},
				"totpEnabledAt" = now()
			where id = ${id}
		`;
		const code = () =>
			generateHOTP(
				decodeBase32IgnorePadding(TOTP_SECRET),
				BigInt(Math.floor(Date.now() / 30_000)),
				6
			);
		/** A password sign-in waiting for its code; the step is made unused again (uncounted). */
		let b = browser(server.url);
		async function waiting() {
			await db.sql`update "User" set "totpLastStep" = null where id = ${id}`;
			b = browser(server.url);
			const res = await b.signIn('coder');
			expect(res.headers.get('location')).toBe('/login/code');
		}
		const run = await cheapest(() => b.post('/login/code?/totp', { code: code() }), waiting);
		expect(run.statements, run.statements.join('\n')).toHaveLength(3);
		expect(run.roundTrips).toBe(3);
		const [lookup, before, after] = run.statements;
		expect(lookup).toContain('"Session"');
		for (const part of ['"PendingSignIn"', '"totpSecret"', 'insert into "Throttle"'])
			expect(before).toContain(part);
		for (const part of [
			'delete from "PendingSignIn"',
			'"totpLastStep"',
			'delete from "Throttle"',
			'insert into "AuditEvent"',
			'insert into "Session"'
		])
			expect(after).toContain(part);
	});
});
