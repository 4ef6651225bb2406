// Odd input against every form action and endpoint of the built server: wrong content types,
// broken multipart bodies, JSON, empty bodies, control characters (NUL above all), huge and
// malformed values, inherited action names, hostile query parameters. Whatever arrives, the
// answer is a 2xx, 3xx or 4xx, never a 5xx, and the log gets warnings, never an error with a
// stack trace.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

let admin: App; // one admin, signed in for the settings actions
let fresh: App; // no user yet: the first-run pages
const dirs: string[] = [];

// Plex is pointed at a closed port: a start that gets that far fails fast, without the network.
const CLOSED = 'http://127.0.0.1:1';
const env = () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-fuzz-'));
	dirs.push(dir);
	return { CONFIG_DIR: dir, PLEX_API_URL: CLOSED, PLEX_AUTH_URL: `${CLOSED}/auth` };
};

let settingsCookie = '';
let logoutCookie = '';

async function sessionCookie(app: App) {
	const b = browser(app.url);
	const res = await b.signIn();
	expect(res.status).toBe(303);
	return [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

beforeAll(async () => {
	[admin, fresh] = await Promise.all([startApp(env()), startApp(env())]);
	await insertAdmin(admin.sql);
	settingsCookie = await sessionCookie(admin);
	logoutCookie = await sessionCookie(admin);
});
afterAll(async () => {
	await Promise.all([admin?.stop(), fresh?.stop()]);
	for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every field name any form of the app reads. */
const FIELDS = [
	'username',
	'logout_token',
	'password',
	'returnTo',
	'displayName',
	'localUsername',
	'confirmPassword',
	'currentPassword',
	'newPassword',
	'enabled',
	'ssoMode',
	'oidcIssuer',
	'oidcClientId',
	'oidcClientSecret',
	'clearClientSecret',
	'oidcScopes',
	'oidcUsernameClaim',
	'forwardAuthUserHeader',
	'forwardAuthEmailHeader',
	'forwardAuthNameHeader',
	'subject',
	'ssoEnabled',
	'passphrase',
	'schedule',
	'cron',
	'retention',
	'clearPassphrase',
	'name',
	'confirm',
	'purpose',
	'key',
	'session',
	'file',
	'lifetimeHours',
	'idleHours',
	'keepSignedIn',
	'keepSignedInOffered'
];

const VALUES = [
	'',
	'\u0000',
	'admin\u0000',
	'\u001b[2J\u001b[Hfake prompt',
	'line\r\nInjected: yes',
	'tab\there',
	'\u007f\u0085\u009b',
	'\ud800',
	'x'.repeat(1500),
	'../../etc/passwd',
	'<script>alert(1)</script>',
	'%00%ff',
	'\u202eevil',
	'true',
	'on',
	'🦀'.repeat(100),
	' ',
	`${CLOSED}/`
];

type Body = { headers: Record<string, string>; body?: BodyInit };

function multipart(fields: Record<string, string>) {
	const form = new FormData();
	for (const [k, v] of Object.entries(fields)) {
		if (k === 'file') form.append(k, new Blob([v]), 'backup.json.gz');
		else form.append(k, v);
	}
	return form;
}

async function multipartBytes(fields: Record<string, string>) {
	const res = new Response(multipart(fields));
	return {
		type: res.headers.get('content-type')!,
		bytes: new Uint8Array(await res.arrayBuffer())
	};
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** The ways a body can arrive: the right ones, and the mistakes clients make. */
const ENCODINGS: Record<string, (fields: Record<string, string>) => Promise<Body>> = {
	urlencoded: async (f) => ({
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: utf8(new URLSearchParams(f).toString())
	}),
	'urlencoded, invalid UTF-8 and raw NUL': async (f) => ({
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: utf8(
			Object.keys(f)
				.map((k) => `${k}=%FF%FE%00%C0%AF`)
				.join('&')
		)
	}),
	multipart: async (f) => {
		const { type, bytes } = await multipartBytes(f);
		return { headers: { 'content-type': type }, body: bytes };
	},
	'multipart without boundary': async (f) => ({
		headers: { 'content-type': 'multipart/form-data' },
		body: (await multipartBytes(f)).bytes
	}),
	'multipart with a wrong boundary': async (f) => ({
		headers: { 'content-type': 'multipart/form-data; boundary=not-the-one' },
		body: (await multipartBytes(f)).bytes
	}),
	'multipart, truncated': async (f) => {
		const { type, bytes } = await multipartBytes(f);
		return { headers: { 'content-type': type }, body: bytes.slice(0, bytes.length >> 1) };
	},
	'text/plain': async (f) => ({
		headers: { 'content-type': 'text/plain' },
		body: utf8(
			Object.entries(f)
				.map(([k, v]) => `${k}=${v}`)
				.join('\r\n')
		)
	}),
	json: async (f) => ({
		headers: { 'content-type': 'application/json' },
		body: utf8(JSON.stringify(f))
	}),
	'empty, form type': async () => ({
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new Uint8Array()
	}),
	'empty, no type': async () => ({ headers: {} }),
	'form body, no type': async (f) => ({
		headers: {},
		body: utf8(new URLSearchParams(f).toString())
	}),
	'odd charset': async (f) => ({
		headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16' },
		body: utf8(new URLSearchParams(f).toString())
	})
};

type Target = { app: () => App; path: string; cookie?: () => string };

const SETTINGS_ACTIONS = [
	'toggleLocal',
	'credentials',
	'saveConnection',
	'testDiscovery',
	'revert',
	'verifyLink',
	'linkManual',
	'applyPreset',
	'linkFromRequest',
	'unlink',
	'saveSso',
	'togglePlex',
	'unlinkPlex'
];
const BACKUP_ACTIONS = ['create', 'schedule', 'delete', 'restore'];
const NOTIFICATION_ACTIONS = ['add', 'remove', 'test', 'events'];

const signedIn = { app: () => admin, cookie: () => settingsCookie };
/** Every form action and every endpoint that takes a POST. The login page comes last: its
 * failures count against the sign-in throttle of this test's address. */
const POST_TARGETS: Target[] = [
	...SETTINGS_ACTIONS.map((a) => ({ ...signedIn, path: `/settings/authentication?/${a}` })),
	...BACKUP_ACTIONS.map((a) => ({ ...signedIn, path: `/settings/backups?/${a}` })),
	...NOTIFICATION_ACTIONS.map((a) => ({ ...signedIn, path: `/settings/notifications?/${a}` })),
	// (not revokeOthers: it would end the session the /logout target uses)
	{ ...signedIn, path: '/settings/security?/revoke' },
	{ ...signedIn, path: '/settings/security?/sessionPolicy' },
	{ ...signedIn, path: '/api/auth/plex/start' },
	{ app: () => admin, path: '/logout', cookie: () => logoutCookie },
	{ app: () => admin, path: '/api/auth/plex/start' },
	{ app: () => admin, path: '/api/auth/sso/oidc/backchannel-logout' },
	{ app: () => fresh, path: '/api/auth/sso/oidc/backchannel-logout' },
	{ app: () => fresh, path: '/setup' },
	{ app: () => fresh, path: '/setup/restore' },
	{ app: () => fresh, path: '/api/auth/plex/start' },
	// GET-only endpoints answer a POST with 405, whatever its body.
	{ app: () => admin, path: '/api/auth/sso/oidc/login' },
	{ app: () => admin, path: '/api/auth/sso/oidc/callback' },
	{ app: () => admin, path: '/api/auth/sso/forward' },
	{ app: () => admin, path: '/api/auth/plex/callback' },
	{ app: () => admin, path: '/healthz' },
	{ ...signedIn, path: '/settings/backups/download/x' },
	{ ...signedIn, path: '/settings/security/history.csv' },
	{ app: () => admin, path: '/login' }
];

/** GET endpoints and pages with every parameter they read, each set to `value`. */
function getTargets(value: string): Target[] {
	const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
	const paths = [
		`/api/auth/plex/callback?${q({ tx: value })}`,
		`/api/auth/sso/oidc/callback?${q({ state: value, code: value, iss: value, error: value })}`,
		`/api/auth/sso/oidc/login?${q({ returnTo: value })}`,
		`/api/auth/sso/forward?${q({ returnTo: value })}`,
		`/login?${q({ returnTo: value, sso_error: value, plex_error: value, setup: value })}`,
		`/settings/authentication?${q({ sso_link_error: value, plex_error: value, sso_linked: value, plex_linked: value })}`,
		`/settings/backups/download/${encodeURIComponent(value.replace(/[\ud800-\udfff]/g, ''))}`,
		`/settings/security?${q({ event: value, method: value, page: value })}`,
		`/settings/security/history.csv?${q({ event: value, method: value, page: value })}`,
		`/setup?${q({ plex_error: value })}`,
		`/healthz?${q({ x: value })}`
	];
	return paths.flatMap((p) => [
		{ app: () => admin, path: p },
		{ ...signedIn, path: p },
		{ app: () => fresh, path: p }
	]);
}

/** Raw query strings that URLSearchParams would never produce. */
const RAW_QUERIES = ['%00', '%FF%FE', '%C0%80', '%E2%80%AE', '%0D%0ASet-Cookie:%20x=1', '%'];

type Outcome = { what: string; status: number };

/**
 * A 5xx that is the truth rather than a crash: Test Discovery and Verify & Link report an issuer
 * that does not answer (the fuzz values include a URL to a closed port) as 502.
 */
function isServerFault(path: string, status: number) {
	if (status === 502 && /\?\/(testDiscovery|verifyLink)$/.test(path)) return false;
	return status >= 500;
}

// The sign-in flows look for their binding cookie before anything else: send one, so that the
// state or transaction parameter is really looked up.
const TX_COOKIES = 'librariarr_oidc_tx=fuzz; librariarr_plex_tx=fuzz';

async function send(
	target: Target,
	method: 'GET' | 'POST',
	body: Body | null,
	accept: string
): Promise<number> {
	const app = target.app();
	const cookie = [target.cookie?.(), TX_COOKIES].filter(Boolean).join('; ');
	const headers: Record<string, string> = { accept, cookie, ...body?.headers };
	if (method === 'POST') headers.origin = app.url;
	if (accept === 'application/json') headers['x-sveltekit-action'] = 'true';
	const res = await fetch(app.url + target.path, {
		method,
		headers,
		body: body?.body,
		redirect: 'manual'
	});
	await res.arrayBuffer();
	return res.status;
}

function allFields(value: string) {
	return Object.fromEntries(FIELDS.map((f) => [f, value]));
}

function expectCleanLogs() {
	for (const app of [admin, fresh]) {
		const bad = app
			.logs()
			.split('\n')
			.filter((l) => / ERROR /.test(l) || /^\s+at /.test(l));
		expect(bad).toEqual([]);
	}
}

describe('odd input never gets a 5xx', () => {
	test('every encoding of a body, to every form action and endpoint', async () => {
		const failures: Outcome[] = [];
		let n = 0;
		for (const target of POST_TARGETS) {
			for (const [name, encode] of Object.entries(ENCODINGS)) {
				const accept = n++ % 2 ? 'application/json' : 'text/html';
				const status = await send(target, 'POST', await encode(allFields('a\u0000b')), accept);
				if (isServerFault(target.path, status))
					failures.push({ what: `POST ${target.path} as ${name}`, status });
			}
		}
		expect(failures).toEqual([]);
		expectCleanLogs();
	}, 300_000);

	test('every kind of hostile value in every field, urlencoded and multipart', async () => {
		const failures: Outcome[] = [];
		let n = 0;
		for (const target of POST_TARGETS) {
			for (const value of VALUES) {
				for (const name of ['urlencoded', 'multipart']) {
					const accept = n++ % 2 ? 'application/json' : 'text/html';
					const status = await send(
						target,
						'POST',
						await ENCODINGS[name](allFields(value)),
						accept
					);
					if (isServerFault(target.path, status)) {
						failures.push({
							what: `POST ${target.path} as ${name} with ${JSON.stringify(value).slice(0, 40)}`,
							status
						});
					}
				}
			}
		}
		expect(failures).toEqual([]);
		expectCleanLogs();
	}, 300_000);

	test('hostile query parameters and path segments on every GET endpoint and page', async () => {
		const failures: Outcome[] = [];
		for (const value of VALUES) {
			for (const target of getTargets(value)) {
				const status = await send(target, 'GET', null, 'text/html');
				if (status >= 500) failures.push({ what: `GET ${target.path.slice(0, 80)}`, status });
			}
		}
		for (const raw of RAW_QUERIES) {
			for (const p of [
				`/api/auth/plex/callback?tx=${raw}`,
				`/api/auth/sso/oidc/callback?state=${raw}&code=${raw}&iss=${raw}`,
				`/api/auth/sso/oidc/login?returnTo=${raw}`,
				`/login?returnTo=${raw}&sso_error=${raw}`,
				`/settings/backups/download/${raw}`
			]) {
				for (const target of [
					{ app: () => admin, path: p },
					{ ...signedIn, path: p }
				]) {
					const status = await send(target, 'GET', null, 'text/html');
					if (status >= 500) failures.push({ what: `GET ${p}`, status });
				}
			}
		}
		expect(failures).toEqual([]);
		expectCleanLogs();
	}, 300_000);

	test('action names an object inherits, the reserved default and unknown names are 4xx', async () => {
		const names = [
			'__proto__',
			'constructor',
			'toString',
			'hasOwnProperty',
			'valueOf',
			'__defineGetter__',
			'isPrototypeOf',
			'default',
			'',
			'nope'
		];
		const pages = [
			{ ...signedIn, path: '/settings/authentication' },
			{ ...signedIn, path: '/settings/backups' },
			{ ...signedIn, path: '/settings/notifications' },
			{ app: () => admin, path: '/login' },
			{ app: () => admin, path: '/logout', cookie: () => logoutCookie },
			{ app: () => fresh, path: '/setup' },
			{ app: () => fresh, path: '/setup/restore' }
		];
		const failures: Outcome[] = [];
		for (const page of pages) {
			for (const name of names) {
				for (const accept of ['text/html', 'application/json']) {
					const target = { ...page, path: `${page.path}?/${name}` };
					const status = await send(target, 'POST', await ENCODINGS.urlencoded({}), accept);
					if (status >= 500) failures.push({ what: `POST ${target.path} (${accept})`, status });
				}
			}
		}
		expect(failures).toEqual([]);
		const proto = await send(
			{ ...signedIn, path: '/settings/authentication?/__proto__' },
			'POST',
			await ENCODINGS.urlencoded({}),
			'text/html'
		);
		expect(proto).toBe(404);
		expectCleanLogs();
	}, 300_000);

	test('random fields and random strings (property)', async () => {
		const encodings = Object.keys(ENCODINGS);
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom(...POST_TARGETS.slice(0, -1)),
				fc.constantFrom(...encodings),
				fc.dictionary(fc.constantFrom(...FIELDS), fc.string({ unit: 'binary', maxLength: 300 }), {
					maxKeys: 8
				}),
				async (target, encoding, fields) => {
					const status = await send(target, 'POST', await ENCODINGS[encoding](fields), 'text/html');
					expect(status, `POST ${target.path} as ${encoding}`).toBeLessThan(500);
				}
			),
			{ numRuns: 200 }
		);
		expectCleanLogs();
	}, 300_000);
});

describe("a client's mistake gets the right 4xx and a clear message", () => {
	const cases: [string, string, number, RegExp][] = [
		['text/plain', 'text/plain', 415, /form(-encoded)? data/],
		['JSON', 'json', 415, /form(-encoded)? data/],
		['an empty body without a type', 'empty, no type', 415, /form(-encoded)? data/],
		['multipart without a boundary', 'multipart without boundary', 400, /no boundary/],
		['a truncated multipart body', 'multipart, truncated', 400, /could not be read/]
	];
	const targets: Target[] = [
		{ app: () => admin, path: '/login' },
		{ app: () => fresh, path: '/setup' },
		{ app: () => admin, path: '/api/auth/plex/start' },
		{ ...signedIn, path: '/settings/authentication?/credentials' },
		{ ...signedIn, path: '/settings/backups?/schedule' }
	];
	for (const [label, encoding, status, message] of cases) {
		test(`${label}: ${status} on every form`, async () => {
			for (const target of targets) {
				const app = target.app();
				const body = await ENCODINGS[encoding]({ username: 'a', purpose: 'login' });
				const res = await fetch(app.url + target.path, {
					method: 'POST',
					headers: {
						accept: 'text/html',
						origin: app.url,
						cookie: target.cookie?.() ?? '',
						...body.headers
					},
					body: body.body,
					redirect: 'manual'
				});
				expect(res.status, target.path).toBe(status);
				expect(await res.text(), target.path).toMatch(message);
			}
			expectCleanLogs();
		});
	}

	test('a form body above 64 KB is refused with 413', async () => {
		const res = await fetch(`${admin.url}/settings/authentication?/saveConnection`, {
			method: 'POST',
			headers: {
				accept: 'text/html',
				origin: admin.url,
				cookie: settingsCookie,
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: `oidcIssuer=${'a'.repeat(70 * 1024)}`,
			redirect: 'manual'
		});
		expect(res.status).toBe(413);
	});

	test('a NUL byte in a field is refused with 400 and the field rule, at login and at setup', async () => {
		const login = await browser(admin.url).post('/login', {
			username: 'admin\u0000',
			password: 'whatever it is'
		});
		expect(login.status).toBe(400);
		expect(await login.text()).toMatch(/control characters/);
		const setup = await browser(fresh.url).post('/setup', {
			displayName: 'Ada\u001b[2J',
			localUsername: 'ada',
			password: 'long enough password',
			confirmPassword: 'long enough password'
		});
		expect(setup.status).toBe(400);
		expect(await setup.text()).toMatch(/control characters/);
		const [{ count }] = await fresh.sql<{ count: number }[]>`select count(*)::int from "User"`;
		expect(count).toBe(0);
	});
});
