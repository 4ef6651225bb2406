// Nothing an anonymous visitor can make the server write piles up, and sign-in starts write
// nothing at all: a stream of OIDC and Plex starts (from one address, from many behind a trusted
// proxy, from one IPv6 range, in parallel bursts) and login page views leave every table as it
// was, because a sign-in in progress lives in the browser that started it. So no amount of them
// gets in the way of the admin's own sign-in. The housekeeping job deletes what has expired:
// records of used sign-ins, expired and ended sessions, throttle counters whose window ended,
// audit rows past the retention (90 days unless changed in Settings → Backups).
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { snapshotTables } from '../helpers/db-snapshot';
import { startFakePlex } from '../helpers/fake-plex.js';
import { startHostileIdp, type HostileIdp } from '../helpers/hostile-idp';
import { startServer } from '../helpers/server.js';

let app: App;
let idp: HostileIdp;
let plex: Awaited<ReturnType<typeof startFakePlex>>;
let env: Record<string, string>;

beforeAll(async () => {
	idp = await startHostileIdp({ clientId: 'librariarr' });
	plex = await startFakePlex();
	env = {
		SECRET_KEY: 'bounded-growth',
		TRUSTED_PROXIES: '127.0.0.1/32,::1/128',
		PLEX_API_URL: plex.url,
		PLEX_AUTH_URL: plex.authUrl
	};
	app = await startApp(env);
	const id = await insertAdmin(app.sql);
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
			"oidcClientId" = 'librariarr', "ssoEnabled" = true, "plexLoginEnabled" = true
		where id = 1
	`;
	await app.sql`
		update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${idp.issuer}, "ssoSubject" = 'alice',
			"plexId" = '1001'
		where id = ${id}
	`;
	// The first Plex start ever gives this install its Plex client identifier (once, in the
	// settings row); from then on a start reads it.
	await browser(app.url).post('/api/auth/plex/start', { purpose: 'login' });
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
	await plex?.stop();
});
beforeEach(async () => {
	idp.reset();
	idp.state.idToken = ({ nonce }) => idp.sign(idp.claims(nonce));
	await app.sql`delete from "Session"`;
	await app.sql`delete from "UsedSignInFlow"`;
});

type Browser = ReturnType<typeof browser>;
/** A fresh visitor; the trusted proxy (this test) gives its address in X-Forwarded-For. */
const visitor = () => browser(app.url);
const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });

async function oidcStart(address: string, b: Browser = visitor()) {
	const res = await b.get('/api/auth/sso/oidc/login', from(address));
	expect(res.status, await res.text()).toBe(303);
	const location = res.headers.get('location') ?? '';
	expect(location).toContain(`${idp.issuer}/authorize`);
	return location;
}

async function plexStart(address: string, b: Browser = visitor()) {
	const res = await b.post('/api/auth/plex/start', { purpose: 'login' }, from(address));
	expect(res.status, await res.text()).toBe(303);
	return plex.parseAuthLocation(res.headers.get('location')!);
}

/** The provider approves the sign-in behind `location`; the browser comes back with the code. */
async function oidcFinish(b: Browser, location: string, address: string) {
	const request = idp.authorize(location);
	const query = new URLSearchParams({ code: request.code, state: request.state });
	return b.get(`/api/auth/sso/oidc/callback?${query}`, from(address));
}

/** Plex approves the PIN; the browser follows Plex's forwardUrl back. */
async function plexFinish(b: Browser, params: URLSearchParams, address: string) {
	plex.approve(params.get('code')!, 'alice');
	const back = new URL(params.get('forwardUrl')!);
	return b.get(back.pathname + back.search, from(address));
}

async function count(table: string) {
	const [{ n }] = await app.sql<{ n: number }[]>`select count(*)::int as n from ${app.sql(table)}`;
	return n;
}

describe('sign-ins in progress are held in the browser', () => {
	test('100 OIDC and 40 Plex starts from one address, bursts from many, starts from one IPv6 /55, and login page views leave every table as it was', async () => {
		const before = await snapshotTables(app.sql);
		for (let i = 0; i < 100; i++) await oidcStart('203.0.113.7');
		for (let i = 0; i < 40; i++) await plexStart('203.0.113.7');
		await Promise.all(
			Array.from({ length: 60 }, (_, i) =>
				i % 2 ? oidcStart(`192.0.2.${i}`) : plexStart(`192.0.2.${i}`)
			)
		);
		// One address in each of 50 /64s of a single /55: what one ordinary IPv6 customer holds.
		for (let i = 0; i < 50; i++) await oidcStart(`2001:db8:5:${(i + 0x100).toString(16)}::1`);
		for (let i = 0; i < 50; i++) {
			const res = await visitor().get('/login', from(`203.0.113.${(i % 200) + 1}`));
			expect(res.status).toBe(200);
		}
		expect(await snapshotTables(app.sql)).toEqual(before);
	}, 90_000);

	test('100 anonymous OIDC starts from the admin’s own address do not evict the admin’s sign-in in progress', async () => {
		const shared = '198.51.100.9'; // the admin and the strangers behind one NAT or untrusted proxy
		const admin = visitor();
		const location = await oidcStart(shared, admin);
		await Promise.all(Array.from({ length: 100 }, () => oidcStart(shared)));
		const res = await oidcFinish(admin, location, shared);
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/');
		expect(await count('Session')).toBe(1);
	}, 60_000);

	test('100 anonymous Plex starts from the admin’s own address do not evict the admin’s Plex sign-in', async () => {
		const shared = '198.51.100.10';
		const admin = visitor();
		const params = await plexStart(shared, admin);
		await Promise.all(Array.from({ length: 100 }, () => plexStart(shared)));
		const res = await plexFinish(admin, params, shared);
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/');
		expect(await count('Session')).toBe(1);
	}, 60_000);

	test('an OIDC and a Plex sign-in started in one browser both complete; a second start of one kind replaces the first of that kind', async () => {
		const b = visitor();
		const address = '192.0.2.200';
		const stale = await oidcStart(address, b);
		const location = await oidcStart(address, b);
		const params = await plexStart(address, b);
		const plexDone = await plexFinish(b, params, address);
		expect(plexDone.headers.get('location')).toBe('/');
		const methods = async () => (await app.sql`select method from "Session"`).map((r) => r.method);
		expect(await methods()).toEqual(['plex']);
		const oidcDone = await oidcFinish(b, location, address);
		expect(oidcDone.headers.get('location')).toBe('/');
		// Signing in again rotates this browser's session: the Plex one gave way to the OIDC one.
		expect(await methods()).toEqual(['oidc']);
		// The replaced one names a state this browser no longer holds.
		const late = await oidcFinish(b, stale, address);
		expect(late.headers.get('location')).toBe('/login?sso_error=state_mismatch&flow=none');
		// What was recorded: the two sign-ins that were used, nothing for the starts.
		expect(await count('UsedSignInFlow')).toBe(2);
	}, 60_000);
});

describe('housekeeping', () => {
	test('the job deletes records of used sign-ins past their expiry, expired and ended sessions, ended throttle windows and audit rows past retention; the rest stays', async () => {
		await app.sql`
			insert into "UsedSignInFlow" (hash, "expiresAt") values
				('expired', now() - interval '1 second'), ('live', now() + interval '5 minutes')
		`;
		await app.sql`delete from "AuditEvent"`;
		await app.sql`delete from "Throttle"`;
		const [{ id: userId, sessionVersion }] = await app.sql`select id, "sessionVersion" from "User"`;
		await app.sql`
			insert into "Session" (id, "userId", "sessionVersion", method, "expiresAt") values
				('live', ${userId}, ${sessionVersion}, 'local', now() + interval '1 day'),
				('expired', ${userId}, ${sessionVersion}, 'local', now() - interval '1 second'),
				('ended', ${userId}, ${sessionVersion - 1}, 'local', now() + interval '1 day')
		`;
		await app.sql`
			insert into "Throttle" (key, kind, attempts, "maxAttempts", "windowEndsAt") values
				('password:address:198.18.0.1', 'password', 3, 20, now() - interval '1 second'),
				('password:address:198.18.0.2', 'password', 3, 20, now() + interval '10 minutes')
		`;
		await app.sql`
			insert into "AuditEvent" (event, "occurredAt", "lastOccurredAt") values
				('old', now() - interval '91 days', null), ('recent', now() - interval '89 days', null),
				('new', now(), null), ('repeated until lately', now() - interval '100 days', now()),
				('repeated long ago', now() - interval '100 days', now() - interval '95 days')
		`;

		// A second instance on the same database runs the job as it starts.
		const second = await startServer({ databaseUrl: app.databaseUrl, env });
		try {
			await expect.poll(async () => count('UsedSignInFlow'), { timeout: 15_000 }).toBe(1);
			expect(await second.logs()).toContain('Housekeeping purged expired rows');
		} finally {
			await second.stop();
		}
		expect((await app.sql`select hash from "UsedSignInFlow"`).map((r) => r.hash)).toEqual(['live']);
		expect((await app.sql`select id from "Session"`).map((r) => r.id)).toEqual(['live']);
		expect(await count('Throttle')).toBe(1);
		expect((await app.sql`select event from "AuditEvent" order by id`).map((r) => r.event)).toEqual(
			['recent', 'new', 'repeated until lately']
		);
	}, 120_000);
});

describe('audit retention setting (Settings → Backups)', () => {
	async function signedIn() {
		const b = browser(app.url);
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		try {
			expect((await b.signIn()).status).toBe(303);
		} finally {
			await app.sql`update "AppSettings" set "ssoEnabled" = true`;
		}
		return b;
	}
	async function retention() {
		const [{ days }] = await app.sql`select "auditRetentionDays" as days from "AppSettings"`;
		return days as number;
	}

	test('defaults to 90 days and is shown on the page', async () => {
		expect(await retention()).toBe(90);
		const page = await (await (await signedIn()).get('/settings/backups')).text();
		expect(page).toContain('Keep audit entries for (days)');
		expect(page).toMatch(
			/id="auditRetentionDays"[^>]*value="90"|value="90"[^>]*id="auditRetentionDays"/
		);
	});

	test.each([['0'], ['3651'], [''], ['abc'], ['1.5'], ['-3'], ['99999999999999999999']])(
		'"%s" is refused with a message beside the field, and nothing changes',
		async (value) => {
			const b = await signedIn();
			const res = await b.post('/settings/backups?/auditRetention', { auditRetentionDays: value });
			expect(res.status).toBe(400);
			const html = await res.text();
			expect(html).toContain('Keep audit entries for 1 to 3650 days');
			expect(html).toContain('id="auditRetentionDays-error"');
			expect(await retention()).toBe(90);
		}
	);

	test('saving a shorter retention deletes older entries at once, and the job keeps to it', async () => {
		const b = await signedIn();
		await app.sql`delete from "AuditEvent"`;
		await app.sql`
			insert into "AuditEvent" (event, "occurredAt") values
				('old', now() - interval '31 days'), ('recent', now() - interval '29 days')
		`;
		const res = await b.post('/settings/backups?/auditRetention', { auditRetentionDays: ' 30 ' });
		expect(res.status).toBe(200);
		expect(await res.text()).toContain(
			'Audit entries are kept for 30 days. 1 older entry was removed.'
		);
		expect(await retention()).toBe(30);
		const events = (await app.sql`select event from "AuditEvent" order by id`).map((r) => r.event);
		expect(events).toEqual(['recent', 'settings.audit_retention']);
		await app.sql`update "AppSettings" set "auditRetentionDays" = 90`;
	});

	test('anonymous visitors cannot change it', async () => {
		const res = await browser(app.url).post('/settings/backups?/auditRetention', {
			auditRetentionDays: '1'
		});
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toMatch(/^\/login/);
		expect(await retention()).toBe(90);
	});
});
