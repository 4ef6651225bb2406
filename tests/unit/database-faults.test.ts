// The pure parts of riding out a database outage: the build-time postgres.js fix applies exactly
// and refuses a changed library, start-up causes read as words, and errors sort into "the
// database is unavailable" and everything else.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { postgresClosedSocketFix } from '../../postgres-fix.js';
import { connectionProblem, hostOf } from '../../src/lib/server/db';
import { DatabaseUnavailable, isUnavailable } from '../../src/lib/server/health';

const connectionJs = path.resolve('node_modules/postgres/src/connection.js');

function transform(code: string) {
	const plugin = postgresClosedSocketFix() as unknown as {
		transform: (code: string, id: string) => { code: string } | null;
	};
	return plugin.transform(code, connectionJs);
}

describe('the postgres.js fix', () => {
	const original = fs.readFileSync(connectionJs, 'utf8');

	test('applies to the installed postgres.js, each edit once', () => {
		const fixed = transform(original)!.code;
		expect(fixed).toContain('if (!socket || socket.destroyed)');
		expect(fixed).toContain('chunk = nextWriteTimer = errorResponse = null');
		expect(fixed).toContain(
			"hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options))"
		);
		expect(fixed.split('\n').length - original.split('\n').length).toBe(9);
	});

	test('leaves every other file alone', () => {
		expect(postgresClosedSocketFix().transform).toBeTruthy();
		const plugin = postgresClosedSocketFix() as unknown as {
			transform: (code: string, id: string) => unknown;
		};
		expect(plugin.transform(original, '/app/node_modules/postgres/src/index.js')).toBe(null);
	});

	test('a postgres.js that no longer matches stops the build with a message', () => {
		const changed = original.replace('function nextWrite(fn) {', 'function nextWrite(fn, x) {');
		expect(() => transform(changed)).toThrow(/postgres.js's connection.js changed/);
	});
});

describe('start-up causes', () => {
	test('the host and port of DATABASE_URL, never the password', () => {
		expect(hostOf('postgres://app:sekrit@db:6543/librariarr')).toBe('db:6543');
		expect(hostOf('postgresql://app:sekrit@db/librariarr')).toBe('db:5432');
	});

	test('what is worth waiting for, and what is not', () => {
		expect(connectionProblem({ code: 'ECONNREFUSED' })).toEqual({
			text: 'connection refused',
			retry: true
		});
		expect(connectionProblem({ code: 'CONNECT_TIMEOUT' })).toEqual({
			text: 'no answer within 3 s',
			retry: true
		});
		expect(
			connectionProblem({ code: '57P03', message: 'the database system is starting up' })
		).toEqual({ text: 'the database is starting up', retry: true });
		expect(connectionProblem({ code: '3D000', message: 'database "x" does not exist' })).toEqual({
			text: 'the database does not exist (database "x" does not exist)',
			retry: false
		});
		expect(
			connectionProblem({ code: '28P01', message: 'password authentication failed' }).retry
		).toBe(false);
	});
});

describe('database unavailable or not', () => {
	test.each([
		['CONNECTION_CLOSED', true],
		['ECONNRESET', true],
		['CONNECT_TIMEOUT', true],
		['57P01', true], // terminating connection due to administrator command
		['57014', true], // statement_timeout
		['08006', true], // connection failure
		['23505', false], // a unique violation is the statement's fault
		['22P02', false]
	])('%s → %s', (code, unavailable) => {
		expect(isUnavailable(Object.assign(new Error('x'), { code }))).toBe(unavailable);
	});

	test('the budget running out counts; a plain error does not', () => {
		expect(isUnavailable(new DatabaseUnavailable('late'))).toBe(true);
		expect(isUnavailable(new Error('boom'))).toBe(false);
		expect(isUnavailable(null)).toBe(false);
	});
});
