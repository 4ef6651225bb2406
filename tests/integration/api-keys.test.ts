// API keys (issue 28): each scope on each /api/v1 endpoint, every refusal (no key, wrong, expired,
// revoked, in the query string, with a cookie), that a key reaches no page, form action or
// setting, that guessing is throttled and writes (almost) nothing, and that a keyed request in
// steady state writes nothing at all. The built server on a real PostgreSQL.
import * as v from 'valibot';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
	apiErrorSchema,
	backupCreatedSchema,
	backupsSchema,
	historyPageSchema,
	sessionEndedSchema,
	sessionsSchema,
	systemStatusSchema
} from '../../src/lib/schemas/api';
import { browser, freshDatabase, insertAdmin, startApp, type App } from '../helpers/app';
import { startStatementLog } from '../helpers/pg-statements';
import { startServer } from '../helpers/server.js';

const KEY = /lbr_[A-Za-z0-9_-]{43}/;
const WRONG = 'lbr_' + 'A'.repeat(43);

let app: App;
beforeAll(async () => {
	app = await startApp({ LOG_LEVEL: 'warn' });
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`delete from "AuditEvent"`;
	await app.sql`delete from "Throttle"`;
	await app.sql`delete from "Backup"`;
	await insertAdmin(app.sql);
});

async function signedIn() {
	const b = browser(app.url);
	expect((await b.signIn()).status).toBe(303);
	return b;
}

/** A key made the way a user makes one: Settings → Security, its form. */
async function makeKey(scope: 'read' | 'full', b?: Awaited<ReturnType<typeof signedIn>>) {
	const owner = b ?? (await signedIn());
	const res = await owner.post('/settings/security?/apiKeyCreate', {
		name: `script ${scope}`,
		scope,
		expiry: '30'
	});
	expect(res.status).toBe(200);
	const key = KEY.exec(await res.text())?.[0];
	expect(key).toBeDefined();
	return key!;
}

function api(path: string, key: string | null, init: RequestInit = {}) {
	const headers = new Headers(init.headers);
	if (key) headers.set('x-api-key', key);
	return fetch(app.url + path, { ...init, headers, redirect: 'manual' });
}

async function refusal(res: Response, status: number) {
	expect(res.status).toBe(status);
	expect(res.headers.get('content-type')).toContain('application/json');
	return v.parse(apiErrorSchema, await res.json()).error;
}

const READS = [
	['/api/v1/system/status', systemStatusSchema],
	['/api/v1/auth/history?page=1', historyPageSchema],
	['/api/v1/auth/sessions', sessionsSchema],
	['/api/v1/backups', backupsSchema]
] as const;

describe('scopes', () => {
	test('a read key reads every GET endpoint, each answer matching its schema', async () => {
		const key = await makeKey('read');
		for (const [path, schema] of READS) {
			const res = await api(path, key);
			expect(res.status, path).toBe(200);
			expect(res.headers.get('cache-control')).toBe('no-store');
			v.parse(schema, await res.json());
		}
		const status = v.parse(systemStatusSchema, await (await api(READS[0][0], key)).json());
		expect(status.database).toBe('ok');
		expect(status.signIn.password).toBe(true);
		const history = v.parse(historyPageSchema, await (await api(READS[1][0], key)).json());
		expect(history.entries.map((e) => e.event)).toContain('api_key.created');
	});

	test('a read key cannot sign a session out or make a backup (403), and nothing changes', async () => {
		const key = await makeKey('read');
		await signedIn();
		const [other] = await app.sql`select "publicId" from "Session" limit 1`;
		const del = await api(`/api/v1/auth/sessions/${other.publicId}`, key, { method: 'DELETE' });
		expect(await refusal(del, 403)).toContain('read-only');
		expect(await refusal(await api('/api/v1/backups', key, { method: 'POST' }), 403)).toContain(
			'full'
		);
		expect((await app.sql`select count(*)::int as n from "Session"`)[0].n).toBe(2);
		expect((await app.sql`select count(*)::int as n from "Backup"`)[0].n).toBe(0);
	});

	test('a full key reads, signs one of its owner’s sessions out and makes a backup', async () => {
		const key = await makeKey('full');
		for (const [path, schema] of READS) v.parse(schema, await (await api(path, key)).json());
		const phone = await signedIn();
		const sessions = v.parse(sessionsSchema, await (await api(READS[2][0], key)).json());
		expect(sessions.sessions).toHaveLength(2);
		const id = sessions.sessions[0].id;
		const del = await api(`/api/v1/auth/sessions/${id}`, key, { method: 'DELETE' });
		expect(del.status).toBe(200);
		expect(v.parse(sessionEndedSchema, await del.json()).ended).toBe(id);
		expect((await app.sql`select count(*)::int as n from "Session"`)[0].n).toBe(1);
		const again = await api(`/api/v1/auth/sessions/${id}`, key, { method: 'DELETE' });
		expect(await refusal(again, 404)).toContain('No such');
		expect(
			await refusal(await api('/api/v1/auth/sessions/nope', key, { method: 'DELETE' }), 400)
		).toContain('not a session id');
		void phone;

		const made = await api('/api/v1/backups', key, {
			method: 'POST',
			headers: { origin: 'https://elsewhere.example' }
		});
		expect(made.status).toBe(201);
		const body = v.parse(backupCreatedSchema, await made.json());
		const list = v.parse(backupsSchema, await (await api('/api/v1/backups', key)).json());
		expect(list.backups.map((b) => b.name)).toContain(body.name);
		const [audit] = await app.sql`
			select method, detail from "AuditEvent" where event = 'backup.created'`;
		expect(audit.method).toBe('api-key');
		expect(audit.detail.key).toBe(key.slice(0, 12));
	});

	test('Authorization: Bearer works like X-Api-Key; two different keys are refused', async () => {
		const key = await makeKey('read');
		const bearer = await fetch(`${app.url}/api/v1/system/status`, {
			headers: { authorization: `Bearer ${key}` }
		});
		expect(bearer.status).toBe(200);
		const both = await fetch(`${app.url}/api/v1/system/status`, {
			headers: { authorization: `Bearer ${WRONG}`, 'x-api-key': key }
		});
		expect(await refusal(both, 400)).toContain('two different keys');
	});

	test('history paging: a bad page is a 400 naming the rule', async () => {
		const key = await makeKey('read');
		expect(await refusal(await api('/api/v1/auth/history?page=0', key), 400)).toContain(
			'whole number'
		);
		const far = v.parse(
			historyPageSchema,
			await (await api('/api/v1/auth/history?page=99', key)).json()
		);
		expect(far.entries).toEqual([]);
	});
});

describe('refusals', () => {
	test('no key: 401 with WWW-Authenticate: Bearer, naming the header; a cookie alone is no key', async () => {
		const res = await api('/api/v1/system/status', null);
		expect(await refusal(res, 401)).toContain('X-Api-Key');
		expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
		const b = await signedIn();
		const withCookie = await fetch(`${app.url}/api/v1/system/status`, {
			headers: { cookie: `librariarr_session=${b.jar.get('librariarr_session')}` }
		});
		expect(await refusal(withCookie, 401)).toContain('X-Api-Key');
	});

	test('a key in the query string: 400 naming the header, and the key is not even looked at', async () => {
		const key = await makeKey('full');
		for (const name of ['apikey', 'api_key', 'apiKey', 'access_token']) {
			const res = await api(`/api/v1/system/status?${name}=${key}`, null);
			const message = await refusal(res, 400);
			expect(message).toContain('X-Api-Key');
			expect(message).toContain('logs');
		}
		const [row] = await app.sql`select "lastUsedAt" from "ApiKey"`;
		expect(row.lastUsedAt).toBeNull();
	});

	test('a cookie and a key together: 400', async () => {
		const b = await signedIn();
		const key = await makeKey('full', b);
		const res = await api('/api/v1/system/status', key, {
			headers: { cookie: `librariarr_session=${b.jar.get('librariarr_session')}` }
		});
		expect(await refusal(res, 400)).toContain('both a sign-in cookie and an API key');
	});

	test('wrong, expired and revoked keys: 401, and the latter two say which', async () => {
		const b = await signedIn();
		const wrong = await api('/api/v1/system/status', WRONG);
		expect(await refusal(wrong, 401)).toBe('That API key is not valid.');
		expect(wrong.headers.get('www-authenticate')).toContain('invalid_token');
		expect(await refusal(await api('/api/v1/system/status', 'garbage'), 401)).toBe(
			'That API key is not valid.'
		);

		const old = await makeKey('read', b);
		await app.sql`update "ApiKey" set "expiresAt" = now() - interval '1 second'
			where prefix = ${old.slice(0, 12)}`;
		const expired = await refusal(await api('/api/v1/system/status', old), 401);
		expect(expired).toContain('has expired');
		expect(expired).toContain(old.slice(0, 12));
		expect(expired).not.toContain(old.slice(12));

		const gone = await makeKey('full', b);
		const [{ id }] = await app.sql`select id from "ApiKey" where prefix = ${gone.slice(0, 12)}`;
		expect((await api('/api/v1/system/status', gone)).status).toBe(200);
		const res = await b.post('/settings/security?/apiKeyRevoke', { key: String(id) });
		expect(await res.text()).toContain('The key was revoked');
		expect(await refusal(await api('/api/v1/system/status', gone), 401)).toContain('was revoked');
		const events = await app.sql`select event from "AuditEvent" where event like 'api_key.%'
			order by id`;
		expect(events.map((e) => e.event)).toEqual([
			'api_key.refused',
			'api_key.created',
			'api_key.created',
			'api_key.new_address',
			'api_key.revoked'
		]);
	});
});

describe('a key is never a way in', () => {
	test('a page, a form action and a settings change ignore the key: the guard sends them to /login', async () => {
		const key = await makeKey('full');
		const sent: Record<string, string>[] = [
			{ 'x-api-key': key },
			{ authorization: `Bearer ${key}` }
		];
		for (const headers of sent) {
			const page = await fetch(`${app.url}/settings/security`, { headers, redirect: 'manual' });
			expect(page.status).toBe(303);
			expect(page.headers.get('location')).toContain('/login');
			expect(page.headers.getSetCookie()).toEqual([]);
			for (const [path, form] of [
				['/settings/security?/apiKeyCreate', { name: 'stolen', scope: 'full', expiry: '0' }],
				['/settings/authentication?/toggleLocal', { enabled: 'off' }],
				['/settings/backups?/create', {}]
			] as const) {
				const res = await fetch(app.url + path, {
					method: 'POST',
					headers: {
						...headers,
						origin: app.url,
						'content-type': 'application/x-www-form-urlencoded'
					},
					body: new URLSearchParams(form),
					redirect: 'manual'
				});
				expect([303, 401, 403], path).toContain(res.status);
				expect(res.headers.getSetCookie()).toEqual([]);
			}
		}
		expect((await app.sql`select count(*)::int as n from "ApiKey"`)[0].n).toBe(1);
		expect((await app.sql`select count(*)::int as n from "Session"`)[0].n).toBe(1);
		const [settings] = await app.sql`select "localAuthEnabled" from "AppSettings"`;
		expect(settings.localAuthEnabled).toBe(true);
		expect((await app.sql`select count(*)::int as n from "Backup"`)[0].n).toBe(0);
	});

	test('making a key needs step-up: an old session without proof is refused, the password proves it', async () => {
		const b = await signedIn();
		await app.sql`update "Session" set "createdAt" = now() - interval '1 hour'`;
		const form = { name: 'late', scope: 'full', expiry: '90' };
		const refused = await b.post('/settings/security?/apiKeyCreate', form);
		expect(refused.status).toBe(403);
		expect(await refused.text()).toContain('needs proof');
		expect((await app.sql`select count(*)::int as n from "ApiKey"`)[0].n).toBe(0);
		const proved = await b.post('/settings/security?/apiKeyCreate', {
			...form,
			currentPassword: 'correct horse battery'
		});
		expect(proved.status).toBe(200);
		expect(KEY.test(await proved.text())).toBe(true);
	});

	test('bad form input: a clear 400 and no key', async () => {
		const b = await signedIn();
		for (const form of [
			{ name: '', scope: 'read', expiry: '30' },
			{ name: 'x', scope: 'admin', expiry: '30' },
			{ name: 'x', scope: 'read', expiry: '7' },
			{ name: 'a\u0000b', scope: 'read', expiry: '30' },
			{ name: 'x'.repeat(101), scope: 'read', expiry: '30' }
		]) {
			const res = await b.post('/settings/security?/apiKeyCreate', form);
			expect(res.status, JSON.stringify(form)).toBe(400);
		}
		for (const key of ['', 'x', '99999999999', '-1']) {
			expect((await b.post('/settings/security?/apiKeyRevoke', { key })).status).toBe(400);
		}
		expect((await b.post('/settings/security?/apiKeyRevoke', { key: '424242' })).status).toBe(404);
		expect((await app.sql`select count(*)::int as n from "ApiKey"`)[0].n).toBe(0);
	});

	test('at most 25 keys: the 26th is refused while all are live; a revoked one makes room', async () => {
		const b = await signedIn();
		for (let i = 0; i < 25; i++) await makeKey('read', b);
		const full = await b.post('/settings/security?/apiKeyCreate', {
			name: 'one more',
			scope: 'read',
			expiry: '30'
		});
		expect(full.status).toBe(409);
		const [{ id }] = await app.sql`select id from "ApiKey" order by id limit 1`;
		await b.post('/settings/security?/apiKeyRevoke', { key: String(id) });
		await makeKey('read', b);
		expect((await app.sql`select count(*)::int as n from "ApiKey"`)[0].n).toBe(25);
		expect((await app.sql`select count(*)::int as n from "ApiKey" where id = ${id}`)[0].n).toBe(0);
	});

	test('the settings page lists keys by prefix and never shows a key again', async () => {
		const b = await signedIn();
		const key = await makeKey('read', b);
		const page = await (await b.get('/settings/security')).text();
		expect(page).toContain(key.slice(0, 12));
		expect(page).not.toContain(key);
	});
});

describe('throttle and writes', () => {
	test('a burst of wrong keys: 20 answered 401, then 429 without a look-up write; one counter, one audit row', async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 30; i++) {
			statuses.push(
				(await api('/api/v1/system/status', `lbr_${String(i).padStart(43, 'x')}`)).status
			);
		}
		expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
		expect(statuses.slice(20)).toEqual(Array(10).fill(429));
		const throttles = await app.sql`select key, attempts from "Throttle"`;
		expect(throttles).toHaveLength(1);
		expect(throttles[0].attempts).toBe(20);
		const audit = await app.sql`select count from "AuditEvent"`;
		expect(audit).toHaveLength(1);
		expect(audit[0].count).toBe(20);
		const res = await api('/api/v1/system/status', WRONG);
		expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
		expect(await refusal(res, 429)).toContain('Too many wrong API keys');
	});

	test('a keyed request in steady state writes nothing: lastUsedAt once an hour, the address once', async () => {
		const db = await freshDatabase();
		const log = await startStatementLog(db.url);
		const server = await startServer({
			databaseUrl: log.url,
			env: { LOG_LEVEL: 'warn', TRUSTED_PROXIES: '127.0.0.1/32' }
		});
		try {
			await insertAdmin(db.sql);
			const b = browser(server.url);
			expect((await b.signIn()).status).toBe(303);
			const made = await b.post('/settings/security?/apiKeyCreate', {
				name: 'bench',
				scope: 'read',
				expiry: '0'
			});
			const key = KEY.exec(await made.text())![0];
			const first = await fetch(`${server.url}/api/v1/system/status`, {
				headers: { 'x-api-key': key }
			});
			expect(first.status).toBe(200);
			const [used] = await db.sql`select "lastUsedAt", "lastAddress" from "ApiKey"`;
			expect(used.lastUsedAt).not.toBeNull();
			await new Promise((resolve) => setTimeout(resolve, 300));
			const from = log.statements.length;
			for (let i = 0; i < 50; i++) {
				const res = await fetch(`${server.url}/api/v1/system/status`, {
					headers: { 'x-api-key': key }
				});
				expect(res.status).toBe(200);
			}
			const statements = log.statements.slice(from);
			expect(statements.length).toBeGreaterThanOrEqual(50);
			expect(
				statements.filter((s) => /^\s*(with\b[\s\S]*)?\b(insert|update|delete)\b/i.test(s))
			).toEqual([]);
			const [after] = await db.sql`select "lastUsedAt" from "ApiKey"`;
			expect(after.lastUsedAt).toEqual(used.lastUsedAt);
			// An hour later, the next request writes it once more.
			await db.sql`update "ApiKey" set "lastUsedAt" = now() - interval '61 minutes'`;
			await fetch(`${server.url}/api/v1/system/status`, { headers: { 'x-api-key': key } });
			const [later] = await db.sql`select "lastUsedAt" from "ApiKey"`;
			expect(later.lastUsedAt.getTime()).toBeGreaterThan(used.lastUsedAt.getTime());

			// A client that switches between two addresses (through the trusted proxy): one
			// counted audit row per address, however often it switches.
			for (let i = 0; i < 10; i++) {
				const res = await fetch(`${server.url}/api/v1/system/status`, {
					headers: {
						'x-api-key': key,
						'x-forwarded-for': i % 2 ? '203.0.113.7' : '2001:db8::7'
					}
				});
				expect(res.status).toBe(200);
			}
			const moves = await db.sql<{ ip: string; count: number }[]>`
				select ip, count from "AuditEvent" where event = 'api_key.new_address' order by ip`;
			expect(moves.map((m) => m.ip).sort()).toEqual(
				['127.0.0.1', '2001:db8::7', '203.0.113.7'].sort()
			);
			expect(moves.find((m) => m.ip === '203.0.113.7')?.count).toBe(5);
		} finally {
			await server.stop();
			await log.stop();
			await db.sql.end();
		}
	});
});

type JsonSchema = {
	type?: string | string[];
	properties?: Record<string, JsonSchema>;
	required?: string[];
	items?: JsonSchema;
	anyOf?: JsonSchema[];
	enum?: unknown[];
	const?: unknown;
	$ref?: string;
};

/**
 * Whether `value` fits `schema`, for the keywords the generator writes for these shapes (type,
 * properties, required, items, anyOf, enum, const, $ref): the problems, with their paths.
 */
function mismatches(
	value: unknown,
	schema: JsonSchema,
	defs: Record<string, JsonSchema>,
	at = '$'
): string[] {
	if (schema.$ref) return mismatches(value, defs[schema.$ref.split('/').pop()!], defs, at);
	if (schema.anyOf) {
		return schema.anyOf.some((s) => !mismatches(value, s, defs, at).length)
			? []
			: [`${at}: fits none of anyOf`];
	}
	if (schema.enum && !schema.enum.includes(value)) return [`${at}: not one of ${schema.enum}`];
	if ('const' in schema && schema.const !== value) return [`${at}: not ${schema.const}`];
	const kind =
		value === null
			? 'null'
			: Array.isArray(value)
				? 'array'
				: Number.isInteger(value)
					? 'integer'
					: typeof value;
	const types = [schema.type ?? []].flat();
	if (types.length && !types.includes(kind) && !(kind === 'integer' && types.includes('number'))) {
		return [`${at}: ${kind}, not ${types.join('|')}`];
	}
	const problems: string[] = [];
	if (kind === 'object' && schema.properties) {
		const object = value as Record<string, unknown>;
		for (const name of schema.required ?? []) {
			if (!(name in object)) problems.push(`${at}.${name}: missing`);
		}
		for (const [name, item] of Object.entries(object)) {
			const property = schema.properties[name];
			if (!property) problems.push(`${at}.${name}: not in the schema`);
			else problems.push(...mismatches(item, property, defs, `${at}.${name}`));
		}
	}
	if (kind === 'array' && schema.items) {
		(value as unknown[]).forEach((item, i) =>
			problems.push(...mismatches(item, schema.items!, defs, `${at}[${i}]`))
		);
	}
	return problems;
}

describe('openapi.json', () => {
	test('is served without a key, is OpenAPI 3.1, and every real answer fits what it documents', async () => {
		const res = await fetch(`${app.url}/api/v1/openapi.json`);
		expect(res.status).toBe(200);
		const doc = await res.json();
		expect(doc.openapi).toBe('3.1.0');
		expect(doc.components.securitySchemes.apiKey).toEqual({
			type: 'apiKey',
			in: 'header',
			name: 'X-Api-Key'
		});
		const defs: Record<string, JsonSchema> = doc.components.schemas;
		const documented = (path: string, method: string, status: number): JsonSchema => {
			const answer = doc.paths[path][method].responses[String(status)];
			const resolved = answer.$ref
				? doc.components.responses[answer.$ref.split('/').pop()]
				: answer;
			return resolved.content['application/json'].schema;
		};

		const b = await signedIn();
		const read = await makeKey('read', b);
		const full = await makeKey('full', b);
		await signedIn();
		const check = async (
			path: string,
			method: string,
			key: string | null,
			status: number,
			documentedPath = path.split('?')[0]
		) => {
			const answer = await api(`/api/v1${path}`, key, { method: method.toUpperCase() });
			expect(answer.status, `${method} ${path}`).toBe(status);
			const schema = documented(documentedPath, method, status);
			expect(mismatches(await answer.json(), schema, defs), `${method} ${path}`).toEqual([]);
		};
		await check('/system/status', 'get', read, 200);
		await check('/auth/history?page=1', 'get', read, 200);
		await check('/auth/history?page=x', 'get', read, 400);
		await check('/auth/sessions', 'get', read, 200);
		await check('/backups', 'get', read, 200);
		await check('/backups', 'post', full, 201);
		await check('/backups', 'get', read, 200);
		await check('/backups', 'post', read, 403);
		await check('/system/status', 'get', null, 401);
		await check('/system/status?apikey=x', 'get', null, 400);
		const [other] =
			await app.sql`select "publicId" from "Session" order by "createdAt" desc limit 1`;
		await check(`/auth/sessions/${other.publicId}`, 'delete', full, 200, '/auth/sessions/{id}');
		await check(`/auth/sessions/${other.publicId}`, 'delete', full, 404, '/auth/sessions/{id}');

		// The checker is not blind: a field the schema does not have, or of the wrong type, shows.
		expect(mismatches({ version: 1 }, defs.SystemStatus, defs)).not.toEqual([]);
		expect(
			mismatches(
				{ ...(await (await api('/api/v1/system/status', read)).json()), extra: 1 },
				defs.SystemStatus,
				defs
			)
		).toEqual(['$.extra: not in the schema']);
	});
});
