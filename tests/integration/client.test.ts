import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

const credentials = { username: 'admin', password: 'correct horse battery' };

describe('with no trusted proxy (the default)', () => {
	let app: App;
	beforeAll(async () => {
		app = await startApp({ TRUSTED_PROXIES: '' });
		await insertAdmin(app.sql);
	});
	afterAll(() => app?.stop());

	test('a cross-origin POST is refused with 403 and changes nothing', async () => {
		for (const origin of ['http://evil.example', 'null', null]) {
			const res = await browser(app.url).post('/login', credentials, { origin });
			expect(res.status, String(origin)).toBe(403);
			expect(res.headers.get('set-cookie')).toBeNull();
		}
		const [{ count }] = await app.sql`select count(*)::int from "Session"`;
		expect(count).toBe(0);
	});

	test('a same-origin POST straight to the app works', async () => {
		const res = await browser(app.url).post('/login', credentials);
		expect(res.status).toBe(303);
		expect(res.headers.get('set-cookie')).not.toMatch(/Secure/);
	});

	test('a spoofed X-Forwarded-For from an untrusted peer changes nothing', async () => {
		await app.sql`delete from "AuditEvent"`;
		const res = await browser(app.url).post(
			'/login',
			{ username: 'admin', password: 'wrong' },
			{ headers: { 'x-forwarded-for': '203.0.113.66' } }
		);
		expect(res.status).toBe(400);
		const [event] = await app.sql`select ip from "AuditEvent" where event = 'login.failed'`;
		expect(event.ip).toBe('127.0.0.1');
		const keys = await app.sql`select key from "Throttle" order by key`;
		expect(keys.map((k) => k.key)).toEqual([
			'password:account:admin',
			'password:address:127.0.0.1',
			'password:pair:127.0.0.1:admin'
		]);
	});

	test('forwarded proto and host from an untrusted peer do not change the origin', async () => {
		const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };
		const res = await browser(app.url).post('/login', credentials, {
			origin: 'https://evil.example',
			headers
		});
		expect(res.status).toBe(403);
	});
});

describe('behind a trusted proxy', () => {
	let app: App;
	beforeAll(async () => {
		app = await startApp({ TRUSTED_PROXIES: '127.0.0.0/8' });
		await insertAdmin(app.sql);
	});
	afterAll(() => app?.stop());

	const proxied = {
		'x-forwarded-proto': 'https',
		'x-forwarded-host': 'librariarr.example.com',
		'x-forwarded-for': '198.51.100.23'
	};

	test('X-Forwarded-Proto/Host give the public origin: same-origin posts work and the cookie is Secure', async () => {
		await app.sql`delete from "AuditEvent"`;
		const res = await browser(app.url).post('/login', credentials, {
			origin: 'https://librariarr.example.com',
			headers: proxied
		});
		expect(res.status).toBe(303);
		expect(res.headers.get('set-cookie')).toMatch(/; Secure/);
		const [event] = await app.sql`select ip from "AuditEvent" where event = 'login.succeeded'`;
		expect(event.ip).toBe('198.51.100.23');
	});

	test('a post claiming the internal origin is refused when the proxy says otherwise', async () => {
		const res = await browser(app.url).post('/login', credentials, { headers: proxied });
		expect(res.status).toBe(403);
	});

	test('a client cannot prepend its own address to X-Forwarded-For', async () => {
		await app.sql`delete from "AuditEvent"`;
		await browser(app.url).post(
			'/login',
			{ username: 'admin', password: 'wrong' },
			{ headers: { 'x-forwarded-for': '10.9.9.9, 198.51.100.24' } }
		);
		const [event] = await app.sql`select ip from "AuditEvent" where event = 'login.failed'`;
		expect(event.ip).toBe('198.51.100.24');
	});

	test('a malformed forwarded host is ignored rather than trusted', async () => {
		const res = await browser(app.url).post('/login', credentials, {
			origin: 'https://evil.example',
			headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example/path@x' }
		});
		expect(res.status).toBe(403);
	});
});

describe('with ORIGIN and COOKIE_SECURE set', () => {
	let app: App;
	beforeAll(async () => {
		app = await startApp({
			ORIGIN: 'https://media.example.org',
			COOKIE_SECURE: ' YES ',
			TRUSTED_PROXIES: '127.0.0.0/8'
		});
		await insertAdmin(app.sql);
	});
	afterAll(() => app?.stop());

	test('ORIGIN wins over forwarded headers', async () => {
		const ok = await browser(app.url).post('/login', credentials, {
			origin: 'https://media.example.org',
			headers: { 'x-forwarded-host': 'other.example', 'x-forwarded-proto': 'http' }
		});
		expect(ok.status).toBe(303);
		expect(ok.headers.get('set-cookie')).toMatch(/; Secure/);
		const refused = await browser(app.url).post('/login', credentials, {
			origin: 'http://other.example',
			headers: { 'x-forwarded-host': 'other.example', 'x-forwarded-proto': 'http' }
		});
		expect(refused.status).toBe(403);
	});
});

describe('the cross-origin refusal names ORIGIN, for a plain browser and for an enhanced form', () => {
	const ORIGIN = 'https://librariarr.example.com';
	let app: App;
	let bare: App;
	beforeAll(async () => {
		[app, bare] = await Promise.all([startApp({ ORIGIN }), startApp({})]);
	});
	afterAll(async () => {
		await app?.stop();
		await bare?.stop();
	});
	const setup = { displayName: 'Ada', localUsername: 'admin', password: 'x', confirmPassword: 'x' };

	test('a plain browser gets a page with both addresses, the fix and the security headers', async () => {
		const res = await browser(app.url).post('/setup', setup); // sent from the app's own address
		expect(res.status).toBe(403);
		expect(res.headers.get('content-type')).toMatch(/^text\/html/);
		for (const header of ['x-content-type-options', 'referrer-policy', 'x-request-id'])
			expect(res.headers.get(header), header).toBeTruthy();
		expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
		expect(res.headers.get('cache-control')).toBe('no-store');
		const text = (await res.text()).replace(/\s+/g, ' ');
		expect(text).toContain(`This form was sent from ${app.url}, but ORIGIN is ${ORIGIN}`);
		expect(text).toContain(`set ORIGIN=${app.url} and restart Librariarr`);
		const [{ count }] = await app.sql`select count(*)::int from "User"`;
		expect(count).toBe(0);
	});

	test("an enhanced form gets Kit's JSON action answer (an error with the words), never text", async () => {
		const res = await browser(app.url).post('/setup', setup, {
			headers: { accept: 'application/json', 'x-sveltekit-action': 'true' }
		});
		expect(res.status).toBe(403);
		expect(res.headers.get('content-type')).toMatch(/^application\/json/);
		const body = await res.json();
		expect(body).toMatchObject({ type: 'error', status: 403 });
		expect(body.error.message).toContain(`but ORIGIN is ${ORIGIN}`);
	});

	test('with ORIGIN unset, the words say so and what to set', async () => {
		const res = await browser(bare.url).post('/setup', setup, { origin: 'http://nas.local:3000' });
		expect(res.status).toBe(403);
		const text = (await res.text()).replace(/\s+/g, ' ');
		expect(text).toContain(
			`This form was sent from http://nas.local:3000, but this server expects forms from ${bare.url} (ORIGIN is not set`
		);
		expect(text).toContain('(ORIGIN=http://nas.local:3000)');
	});
});
