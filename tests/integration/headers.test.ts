// Security headers on every page the built server renders: the Content-Security-Policy from
// Kit's csp option (with the nonce on Kit's own script), nosniff, the referrer policy and
// no-store caching, signed in and out, on first run and after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

const PLEX_AUTH = 'http://127.0.0.1:9/plex-auth';
let admin: App;
let fresh: App;
const dirs: string[] = [];

function env() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-headers-'));
	dirs.push(dir);
	return { CONFIG_DIR: dir, PLEX_AUTH_URL: PLEX_AUTH };
}

beforeAll(async () => {
	[admin, fresh] = await Promise.all([startApp(env()), startApp(env())]);
	await insertAdmin(admin.sql);
});
afterAll(async () => {
	await Promise.all([admin?.stop(), fresh?.stop()]);
	for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function directives(csp: string) {
	return new Map(
		csp
			.split(';')
			.map((d) => d.trim().split(/\s+/))
			.filter((d) => d[0])
			.map(([name, ...values]) => [name, values])
	);
}

async function expectSecurityHeaders(res: Response, what: string) {
	expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
	expect(res.headers.get('referrer-policy'), what).toBe('same-origin');
	expect(res.headers.get('cache-control'), what).toBe('no-store');
	const csp = res.headers.get('content-security-policy');
	expect(csp, what).toBeTruthy();
	const d = directives(csp!);
	expect(d.get('frame-ancestors'), what).toEqual(["'none'"]);
	expect(d.get('base-uri'), what).toEqual(["'none'"]);
	expect(d.get('object-src'), what).toEqual(["'none'"]);
	expect(d.get('form-action')?.[0], what).toBe("'self'");
	const scripts = d.get('script-src') ?? [];
	expect(scripts, what).not.toContain("'unsafe-inline'");
	// Kit's inline bootstrap script carries the nonce the policy names.
	const nonce = scripts.find((s) => s.startsWith("'nonce-"))?.slice(7, -1);
	expect(nonce, what).toBeTruthy();
	const html = await res.text();
	const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)];
	expect(inline.length, what).toBeGreaterThan(0);
	for (const [, attrs] of inline) expect(attrs, what).toContain(`nonce="${nonce}"`);
	return d;
}

describe('every page sends the security headers', () => {
	test('signed in: home, settings, backups, sign-out', async () => {
		const b = browser(admin.url);
		expect((await b.signIn()).status).toBe(303);
		for (const page of ['/', '/settings/authentication', '/settings/backups', '/logout']) {
			const res = await b.get(page);
			expect(res.status, page).toBe(200);
			await expectSecurityHeaders(res, page);
		}
	});

	test('signed out: the login page; on first run: setup and restore', async () => {
		const login = await browser(admin.url).get('/login');
		expect(login.status).toBe(200);
		await expectSecurityHeaders(login, '/login');
		for (const page of ['/setup', '/setup/restore']) {
			const res = await browser(fresh.url).get(page);
			expect(res.status, page).toBe(200);
			await expectSecurityHeaders(res, page);
		}
	});

	test('redirects, errors and endpoints are not cached and not sniffed either', async () => {
		for (const [app, page] of [
			[admin, '/setup'], // a redirect from a page's load
			[admin, '/no-such-page'],
			[admin, '/healthz'],
			[admin, '/api/auth/sso/oidc/login']
		] as const) {
			const res = await browser(app.url).get(page);
			expect(res.headers.get('x-content-type-options'), page).toBe('nosniff');
			expect(res.headers.get('referrer-policy'), page).toBe('same-origin');
			expect(res.headers.get('cache-control'), page).toBe('no-store');
		}
	});

	test("the guard's redirects and the cross-origin refusal carry the headers and a request ID", async () => {
		const cases: [App, string, Response][] = [
			[admin, '/login?returnTo', await browser(admin.url).get('/settings/security')],
			[fresh, '/setup', await browser(fresh.url).get('/')],
			[
				admin,
				'refusal',
				await browser(admin.url).post('/logout', {}, { origin: 'http://evil.example' })
			]
		];
		for (const [, what, res] of cases) {
			expect(res.status, what).toBe(what === 'refusal' ? 403 : 303);
			if (what !== 'refusal') expect(res.headers.get('location'), what).toContain(what);
			expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
			expect(res.headers.get('referrer-policy'), what).toBe('same-origin');
			expect(res.headers.get('cache-control'), what).toBe('no-store');
			expect(res.headers.get('x-request-id'), what).toMatch(/^[0-9a-f-]{36}$/);
		}
	});

	test("the guard's redirect keeps Kit's JSON shape for client-side navigation and enhanced forms, and drops a dead session cookie", async () => {
		const data = await fetch(new URL('/settings/security/__data.json', admin.url), {
			redirect: 'manual'
		});
		expect(await data.json()).toEqual({
			type: 'redirect',
			location: '/login?returnTo=%2Fsettings%2Fsecurity'
		});
		const enhanced = await fetch(new URL('/settings/security?/revokeOthers', admin.url), {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: new URL(admin.url).origin,
				accept: 'application/json',
				cookie: 'librariarr_session=dead.token'
			}
		});
		expect(await enhanced.json()).toMatchObject({ type: 'redirect', status: 303 });
		expect(enhanced.headers.get('x-content-type-options')).toBe('nosniff');
		expect(enhanced.headers.get('set-cookie')).toMatch(/^librariarr_session=;.*Max-Age=0/);
	});

	test("an error() from an endpoint, shown to a browser as Kit's static page, has a CSP", async () => {
		const b = browser(admin.url);
		expect((await b.signIn()).status).toBe(303);
		const res = await b.get('/settings/security/history.csv?event=no.such.event', {
			headers: { accept: 'text/html' }
		});
		expect(res.status).toBe(400);
		expect(res.headers.get('content-type')).toMatch(/^text\/html/);
		const d = directives(res.headers.get('content-security-policy') ?? '');
		expect(d.get('default-src')).toEqual(["'none'"]);
		expect(d.get('frame-ancestors')).toEqual(["'none'"]);
		expect(res.headers.get('x-content-type-options')).toBe('nosniff');
	});

	test('form-action also allows where the forms on a page redirect to: Plex, and the identity provider', async () => {
		const plex = new URL(PLEX_AUTH).origin;
		const login = directives(
			(await browser(admin.url).get('/login')).headers.get('content-security-policy')!
		);
		expect(login.get('form-action')).toEqual(["'self'", plex]);
		const setup = directives(
			(await browser(fresh.url).get('/setup')).headers.get('content-security-policy')!
		);
		expect(setup.get('form-action')).toEqual(["'self'", plex]);

		await admin.sql`update "AppSettings" set "oidcIssuer" = 'https://idp.example.test/realms/x' where id = 1`;
		const b = browser(admin.url);
		await b.signIn();
		const settings = directives(
			(await b.get('/settings/authentication')).headers.get('content-security-policy')!
		);
		expect(settings.get('form-action')).toEqual(["'self'", plex, 'https://idp.example.test']);
		// Every other page keeps form-action to this site alone.
		const backups = directives(
			(await b.get('/settings/backups')).headers.get('content-security-policy')!
		);
		expect(backups.get('form-action')).toEqual(["'self'"]);
	});
});
