import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
	isTruthy,
	METRICS_TOKEN_MIN,
	readEnvironment,
	secretValue
} from '../../src/lib/server/plain/env.js';

describe('boolean environment switches', () => {
	test.each(['true', 'TRUE', ' yes ', 'Yes', '1', '\ttrue\n'])('%j is on', (v) =>
		expect(isTruthy(v)).toBe(true)
	);
	test.each([undefined, '', 'false', '0', 'no', 'on', 'y', 'truee', '2'])('%j is off', (v) =>
		expect(isTruthy(v)).toBe(false)
	);
});

describe('METRICS_TOKEN', () => {
	const read = (value: string | undefined) => readEnvironment({ METRICS_TOKEN: value });
	test('unset or empty: metrics off', () => {
		expect(read(undefined).settings?.metricsToken).toBeNull();
		expect(read('').settings?.metricsToken).toBeNull();
	});
	test('a long visible value turns them on', () => {
		const token = 'x'.repeat(METRICS_TOKEN_MIN);
		expect(read(token).settings?.metricsToken).toBe(token);
	});
	test.each([
		['too short', 'x'.repeat(METRICS_TOKEN_MIN - 1), /shorter than 24 characters/],
		['a space inside', `${'x'.repeat(20)} ${'y'.repeat(20)}`, /visible ASCII/],
		['a line break', `${'x'.repeat(30)}\n`, /visible ASCII/]
	])('%s: one start-up line that does not show the value', (_what, value, words) => {
		const { settings, problems } = read(value);
		expect(settings).toBeNull();
		expect(problems).toHaveLength(1);
		expect(problems[0]).toMatch(words);
		expect(problems[0]).toContain('not shown');
		expect(problems[0]).not.toContain('xxxx');
	});
});

describe('secrets from files (NAME_FILE)', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-env-'));
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
	const file = (name: string, content: string) => {
		const at = path.join(dir, name);
		fs.writeFileSync(at, content);
		return at;
	};

	test('the file holds the value, trimmed, and it is checked like the variable', () => {
		const url = 'postgres://app:s3cret@db:5432/librariarr';
		const { settings, problems } = readEnvironment({
			DATABASE_URL_FILE: file('db', `${url}\n`),
			METRICS_TOKEN_FILE: file('metrics', `  ${'t'.repeat(30)}  \n`)
		});
		expect(problems).toEqual([]);
		expect(settings?.databaseUrl).toBe(url);
		expect(settings?.metricsToken).toBe('t'.repeat(30));
		const bad = readEnvironment({ DATABASE_URL_FILE: file('bad', 'mysql://x:pw@db/x') });
		expect(bad.problems).toHaveLength(1);
		expect(bad.problems[0]).toMatch(/^DATABASE_URL=.* must start with postgres:\/\//);
		expect(bad.problems[0]).not.toContain(':pw@');
	});

	test.each(['DATABASE_URL', 'METRICS_TOKEN', 'SECRET_KEY'])(
		'%s and %s_FILE both set: one line naming both',
		(name) => {
			const { settings, problems } = readEnvironment({
				[name]: name === 'DATABASE_URL' ? 'postgres://a@b/c' : 'x'.repeat(30),
				[`${name}_FILE`]: file(`both-${name}`, 'y'.repeat(30))
			});
			expect(settings).toBeNull();
			expect(problems).toEqual([
				expect.stringMatching(new RegExp(`^${name} and ${name}_FILE are both set`))
			]);
		}
	);

	test('a file that cannot be read, or is empty: one line naming it', () => {
		const missing = path.join(dir, 'missing');
		expect(secretValue({ METRICS_TOKEN_FILE: missing }, 'METRICS_TOKEN')).toEqual({
			problem: `METRICS_TOKEN_FILE=${JSON.stringify(missing)} cannot be read (ENOENT).`
		});
		const empty = file('empty', ' \n');
		expect(secretValue({ DATABASE_URL_FILE: empty }, 'DATABASE_URL').problem).toBe(
			`DATABASE_URL_FILE=${JSON.stringify(empty)} is empty.`
		);
		expect(secretValue({ DATABASE_URL: 'postgres://x' }, 'DATABASE_URL')).toEqual({
			value: 'postgres://x'
		});
	});
});
