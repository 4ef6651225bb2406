// "Required claim" (sso/required-claim.ts): every shape a provider sends a group or role in,
// nested paths, Entra's group overage, missing and non-string values, hostile shapes (objects,
// huge arrays, huge strings, inherited names), the words of a refusal, and the bounded copy of
// someone's claims that the lock-out check reads instead of the original.
import { describe, expect, test } from 'vitest';
import {
	checkClaims,
	keepClaims,
	KEEP_LIMITS,
	pathProblem,
	READ_LIMITS,
	readClaim,
	refusalWords,
	ruleSet,
	valueProblem,
	type ClaimVerdict
} from '../../src/lib/server/sso/required-claim';

const rule = (path: string, ...values: string[]) => ({ path, values });
const refused = (v: ClaimVerdict) => {
	if (v.ok) throw new Error('expected a refusal');
	return v;
};

describe('readClaim: shapes', () => {
	test('an array of strings', () => {
		expect(readClaim({ groups: ['admins', ' staff '] }, 'groups')).toEqual({
			kind: 'values',
			values: ['admins', 'staff'],
			skipped: 0,
			truncated: false
		});
	});
	test('a space-separated string, a comma-separated one, and both mixed', () => {
		expect(readClaim({ roles: 'a b  c' }, 'roles')).toMatchObject({ values: ['a', 'b', 'c'] });
		expect(readClaim({ roles: 'a,b, c' }, 'roles')).toMatchObject({ values: ['a', 'b', 'c'] });
		expect(readClaim({ roles: ' a ,\tb\nc,, ' }, 'roles')).toMatchObject({
			values: ['a', 'b', 'c']
		});
	});
	test('a single string, number or boolean is one value', () => {
		expect(readClaim({ role: 'admin' }, 'role')).toMatchObject({ values: ['admin'] });
		expect(readClaim({ level: 7 }, 'level')).toMatchObject({ values: ['7'] });
		expect(readClaim({ staff: true }, 'staff')).toMatchObject({ values: ['true'] });
	});
	test('numbers and booleans inside an array count; objects, arrays and null are skipped', () => {
		expect(readClaim({ g: [1, false, { a: 1 }, ['x'], null, 'ok', ''] }, 'g')).toEqual({
			kind: 'values',
			values: ['1', 'false', 'ok'],
			skipped: 4,
			truncated: false
		});
	});
	test('a nested path through plain objects (Keycloak realm_access.roles)', () => {
		const claims = {
			realm_access: { roles: ['offline_access', 'librariarr'] },
			resource_access: { app: { roles: ['viewer'] } }
		};
		expect(readClaim(claims, 'realm_access.roles')).toMatchObject({
			values: ['offline_access', 'librariarr']
		});
		expect(readClaim(claims, 'resource_access.app.roles')).toMatchObject({ values: ['viewer'] });
	});
	test('an exact top-level name with dots wins over the dot path (namespaced claims)', () => {
		const claims = {
			'https://example.com/roles': ['admin'],
			https: { '//example': { 'com/roles': ['other'] } }
		};
		expect(readClaim(claims, 'https://example.com/roles')).toMatchObject({ values: ['admin'] });
	});
});

describe('readClaim: missing, overage, unreadable', () => {
	test('missing at the top and half-way down a path', () => {
		expect(readClaim({}, 'groups')).toEqual({ kind: 'missing' });
		expect(readClaim({ realm_access: {} }, 'realm_access.roles')).toEqual({ kind: 'missing' });
		expect(readClaim({ realm_access: 'x' }, 'realm_access.roles')).toEqual({ kind: 'missing' });
		expect(readClaim({ realm_access: null }, 'realm_access.roles')).toEqual({ kind: 'missing' });
	});
	test('a path never walks into arrays or inherited properties', () => {
		expect(readClaim({ a: [{ b: 'x' }] }, 'a.0.b')).toEqual({ kind: 'missing' });
		expect(readClaim({ a: ['x'] }, 'a.length')).toEqual({ kind: 'missing' });
		expect(readClaim({}, 'constructor')).toEqual({ kind: 'missing' });
		expect(readClaim({}, 'toString')).toEqual({ kind: 'missing' });
		expect(readClaim({ a: {} }, 'a.__proto__')).toEqual({ kind: 'missing' });
		// A JSON payload's own "__proto__" is an ordinary claim.
		expect(readClaim(JSON.parse('{"__proto__": ["x"]}'), '__proto__')).toMatchObject({
			values: ['x']
		});
	});
	test('Entra group overage: _claim_names naming the claim, or hasgroups', () => {
		const overage = {
			_claim_names: { groups: 'src1' },
			_claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/v1.0/x' } }
		};
		expect(readClaim(overage, 'groups')).toEqual({ kind: 'overage' });
		expect(readClaim({ hasgroups: true }, 'groups')).toEqual({ kind: 'overage' });
		// Another claim is not affected by the groups' overage.
		expect(readClaim(overage, 'roles')).toEqual({ kind: 'missing' });
		expect(readClaim({ hasgroups: true }, 'roles')).toEqual({ kind: 'missing' });
		// A hostile _claim_names is no overage of anything.
		expect(readClaim({ _claim_names: ['groups'] }, 'groups')).toEqual({ kind: 'missing' });
	});
	test('an object or null is unreadable, named as such', () => {
		expect(readClaim({ groups: { a: 1 } }, 'groups')).toEqual({
			kind: 'unreadable',
			what: 'an object'
		});
		expect(readClaim({ groups: null }, 'groups')).toEqual({ kind: 'unreadable', what: 'null' });
	});
});

describe('readClaim: bounds', () => {
	test('a huge array is read up to READ_LIMITS.items and says it was cut', () => {
		const groups = Array.from({ length: 100_000 }, (_, i) => `g${i}`);
		const reading = readClaim({ groups }, 'groups');
		expect(reading).toMatchObject({ kind: 'values', truncated: true });
		expect((reading as { values: string[] }).values).toHaveLength(READ_LIMITS.items);
		// A value past the bound does not count.
		expect(checkClaims(rule('groups', 'g99999'), { groups }).ok).toBe(false);
		expect(checkClaims(rule('groups', 'g0'), { groups }).ok).toBe(true);
	});
	test('a huge string is read up to READ_LIMITS.stringLength', () => {
		const roles = 'x'.repeat(5_000_000) + ' admin';
		const started = performance.now();
		const reading = readClaim({ roles }, 'roles');
		expect(performance.now() - started).toBeLessThan(500);
		expect(reading).toMatchObject({ kind: 'values', truncated: true });
		expect(checkClaims(rule('roles', 'admin'), { roles }).ok).toBe(false);
	});
	test('a string of many short values is cut to READ_LIMITS.items values', () => {
		const roles = Array.from({ length: 1000 }, (_, i) => `r${i}`).join(' ');
		expect((readClaim({ roles }, 'roles') as { values: string[] }).values).toHaveLength(
			READ_LIMITS.items
		);
	});
});

describe('checkClaims', () => {
	test('no rule: every set of claims passes', () => {
		expect(checkClaims(null, {})).toEqual({ ok: true });
		expect(checkClaims(rule(''), {})).toEqual({ ok: true });
		expect(ruleSet(rule(''))).toBe(false);
		expect(ruleSet(rule('groups', 'a'))).toBe(true);
	});
	test('one accepted value among the claim is enough; comparison is exact', () => {
		const r = rule('groups', 'librariarr-admins', 'media');
		expect(checkClaims(r, { groups: ['staff', 'media'] })).toEqual({ ok: true });
		expect(checkClaims(r, { groups: 'staff librariarr-admins' })).toEqual({ ok: true });
		expect(checkClaims(r, { groups: 'media' })).toEqual({ ok: true });
		expect(checkClaims(r, { groups: ['Media'] }).ok).toBe(false);
		expect(checkClaims(r, { groups: ['media-team'] }).ok).toBe(false);
	});
	test('refusals name the claim and what it held, shortened', () => {
		const r = rule('groups', 'admins');
		expect(checkClaims(r, {})).toEqual({
			ok: false,
			reason: 'missing',
			claim: 'groups',
			held: 'nothing'
		});
		expect(refused(checkClaims(r, { hasgroups: true })).reason).toBe('overage');
		expect(refused(checkClaims(r, { groups: { x: 1 } }))).toMatchObject({
			reason: 'unreadable',
			held: 'an object'
		});
		expect(refused(checkClaims(r, { groups: [] })).held).toBe('an empty list');
		expect(refused(checkClaims(r, { groups: [{}] })).held).toBe('no text values');
		expect(refused(checkClaims(r, { groups: ['a', 'b'] })).held).toBe('“a”, “b”');
		const many = refused(checkClaims(r, { groups: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] }));
		expect(many.held).toBe('“a”, “b”, “c”, “d”, “e” and 2 more');
		const long = refused(checkClaims(r, { groups: ['x'.repeat(500)] }));
		expect(long.held.length).toBeLessThan(50);
		const cut = refused(checkClaims(r, { groups: Array.from({ length: 300 }, () => 'z') }));
		expect(cut.held).toMatch(/and more$/);
	});
	test('a refusal prints no control characters from the provider', () => {
		const v = refused(checkClaims(rule('groups', 'a'), { groups: ['evil\u001b[31m\u2028x'] }));
		expect(refusalWords(v)).not.toMatch(/[\u0000-\u001f\u2028]/);
	});
	test('the words of each refusal say what is wrong', () => {
		const r = rule('realm_access.roles', 'admin');
		expect(refusalWords(refused(checkClaims(r, {})))).toBe(
			'The provider sent no “realm_access.roles” claim.'
		);
		expect(refusalWords(refused(checkClaims(rule('groups', 'a'), { hasgroups: true })))).toMatch(
			/too many groups \(Entra ID group overage\)/
		);
		expect(refusalWords(refused(checkClaims(r, { realm_access: { roles: ['user'] } })))).toBe(
			'The “realm_access.roles” claim held “user”, none of them an accepted value.'
		);
		expect(refusalWords(refused(checkClaims(r, { realm_access: { roles: {} } })))).toBe(
			'The “realm_access.roles” claim held an object, not a value or a list of values.'
		);
	});
});

describe('the rule’s own bounds', () => {
	test('paths', () => {
		expect(pathProblem('groups')).toBeNull();
		expect(pathProblem('realm_access.roles')).toBeNull();
		expect(pathProblem('https://example.com/roles')).toBeNull();
		expect(pathProblem('a..b')).toMatch(/empty part/);
		expect(pathProblem('.groups')).toMatch(/empty part/);
		expect(pathProblem('my groups')).toMatch(/spaces/);
		expect(pathProblem('a\u0000b')).toMatch(/spaces/);
		expect(pathProblem('a.b.c.d.e.f')).toMatch(/deeper than 5/);
		expect(pathProblem('x'.repeat(201))).toMatch(/longer than 200/);
	});
	test('values', () => {
		expect(valueProblem('cn=admins,ou=groups,dc=example,dc=org')).toBeNull();
		expect(valueProblem('x'.repeat(201))).toMatch(/longer than 200/);
		expect(valueProblem('a\nb')).toMatch(/control character/);
	});
});

describe('keepClaims', () => {
	test('bookkeeping claims are left out; the rest is kept as it reads', () => {
		const claims = {
			iss: 'https://idp',
			aud: 'app',
			exp: 1,
			iat: 1,
			nonce: 'n',
			at_hash: 'h',
			sid: 's',
			sub: 'ada',
			groups: ['a', 'b'],
			realm_access: { roles: ['r'] },
			_claim_names: { groups: 'src1' },
			_claim_sources: { src1: { endpoint: 'https://graph' } }
		};
		const { claims: kept, dropped } = keepClaims(claims);
		expect(dropped).toEqual([]);
		expect(kept).toEqual({
			sub: 'ada',
			groups: ['a', 'b'],
			realm_access: { roles: ['r'] },
			_claim_names: { groups: 'src1' }
		});
	});
	test('every reading of the copy equals the reading of the original, for hostile shapes too', () => {
		const claims: Record<string, unknown> = {
			groups: Array.from({ length: 5000 }, (_, i) => (i % 7 ? `g${i}` : { i })),
			roles: 'r '.repeat(20_000),
			nested: { a: { b: { c: { d: ['deep'], e: { f: 'too deep' } } } } },
			mixed: [1, true, null, [], {}, 'x'],
			hasgroups: true,
			n: 3
		};
		const { claims: kept } = keepClaims(claims);
		for (const path of [
			'groups',
			'roles',
			'nested.a.b.c.d',
			'nested.a.b.c.e',
			'nested.a.b.c',
			'mixed',
			'n',
			'missing'
		])
			expect(readClaim(kept, path), path).toEqual(readClaim(claims, path));
	});
	test('the copy stays within KEEP_LIMITS.bytes, leaving out the largest claims first', () => {
		const claims: Record<string, unknown> = { groups: ['admins'] };
		for (let i = 0; i < 100; i++) claims[`big${i}`] = 'x'.repeat(READ_LIMITS.stringLength);
		const { claims: kept, dropped } = keepClaims(claims);
		expect(JSON.stringify(kept).length).toBeLessThanOrEqual(KEEP_LIMITS.bytes);
		expect(kept.groups).toEqual(['admins']);
		expect(dropped.length).toBeGreaterThan(0);
	});
});
