// Nothing an anonymous visitor can make the server write piles up: a stream of OIDC and Plex
// sign-in starts (from one address, from many behind a trusted proxy, in parallel bursts) and
// login page views leave at most 20 sign-ins in flight per address (an IPv6 /64 counts as one),
// at most 10,000 in all, and the housekeeping job deletes what has expired: finished and expired
// sign-ins, expired and ended sessions, throttle counters whose window ended, audit rows past the
// retention (90 days unless changed in Settings → Backups).
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { startFakePlex } from '../helpers/fake-plex.js';
import { startHostileIdp, type HostileIdp } from '../helpers/hostile-idp';
import { startServer } from '../helpers/server.js';

const PER_ADDRESS = 20;
const TOTAL = 10_000;

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
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
	await plex?.stop();
});
beforeEach(async () => {
	await app.sql`delete from "LoginTransaction"`;
});

/** A fresh visitor; the trusted proxy (this test) gives its address in X-Forwarded-For. */
const visitor = () => browser(app.url);
const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });

async function oidcStart(address: string) {
	const res = await visitor().get('/api/auth/sso/oidc/login', from(address));
	expect(res.status, await res.text()).toBe(303);
	expect(res.headers.get('location')).toContain(`${idp.issuer}/authorize`);
}

async function plexStart(address: string) {
	const res = await visitor().post('/api/auth/plex/start', { purpose: 'login' }, from(address));
	expect(res.status, await res.text()).toBe(303);
}

async function openByAddress() {
	const rows = await app.sql<{ ip: string; n: number }[]>`
		select host(ip) as ip, count(*)::int as n from "LoginTransaction" group by ip
	`;
	return Object.fromEntries(rows.map((r) => [r.ip, r.n]));
}

async function count(table: string) {
	const [{ n }] = await app.sql<{ n: number }[]>`select count(*)::int as n from ${app.sql(table)}`;
	return n;
}

describe('sign-ins in flight are capped per address', () => {
	test('100 OIDC and 40 Plex starts from one address leave 20 rows, the newest', async () => {
		for (let i = 0; i < 100; i++) await oidcStart('203.0.113.7');
		expect(await openByAddress()).toEqual({ '203.0.113.7': PER_ADDRESS });
		for (let i = 0; i < 40; i++) await plexStart('203.0.113.7');
		// Plex and OIDC share the cap; the newest win, so the last 20 are all Plex.
		const kinds =
			await app.sql`select kind, count(*)::int as n from "LoginTransaction" group by kind`;
		expect(kinds).toEqual([{ kind: 'plex', n: PER_ADDRESS }]);
	}, 60_000);

	test('a parallel burst of 60 starts from one address cannot overshoot the cap', async () => {
		await Promise.all(
			Array.from({ length: 60 }, (_, i) =>
				i % 2 ? oidcStart('198.51.100.9') : plexStart('198.51.100.9')
			)
		);
		expect(await openByAddress()).toEqual({ '198.51.100.9': PER_ADDRESS });
	}, 60_000);

	test('several addresses behind the proxy each get their own 20; the oldest sign-in of an address is the one dropped', async () => {
		const addresses = Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`);
		await oidcStart('192.0.2.1');
		const [first] = await app.sql`select id from "LoginTransaction"`;
		for (let round = 0; round < 30; round++) {
			await Promise.all(addresses.map((a) => (round % 3 ? oidcStart(a) : plexStart(a))));
		}
		const open = await openByAddress();
		expect(Object.keys(open).sort()).toEqual([...addresses].sort());
		for (const a of addresses) expect(open[a], a).toBe(PER_ADDRESS);
		expect(await count('LoginTransaction')).toBe(addresses.length * PER_ADDRESS);
		expect(await app.sql`select 1 from "LoginTransaction" where id = ${first.id}`).toHaveLength(0);
	}, 90_000);

	test('IPv6 addresses count per /64: 50 starts from 50 addresses of one /64 leave 20', async () => {
		for (let i = 0; i < 50; i++) await oidcStart(`2001:db8:5:7::${(i + 1).toString(16)}`);
		await oidcStart('2001:db8:5:8::1'); // the neighbouring /64 is another network
		const [{ same, other }] = await app.sql`
			select count(*) filter (where ip <<= '2001:db8:5:7::/64')::int as same,
				count(*) filter (where ip <<= '2001:db8:5:8::/64')::int as other
			from "LoginTransaction"
		`;
		expect({ same, other }).toEqual({ same: PER_ADDRESS, other: 1 });
	}, 60_000);

	test('with 10,000 sign-ins open on the server, a new one is refused with 429 and a message, and nothing is stored', async () => {
		await app.sql`
			insert into "LoginTransaction" (id, kind, "browserBinding", "expiresAt", ip)
			select 'bulk' || g, 'oidc', 'x', now() + interval '10 minutes', ('10.' || (g / 65536) || '.' || (g / 256 % 256) || '.' || (g % 256))::inet
			from generate_series(1, ${TOTAL}) g
		`;
		const oidc = await visitor().get('/api/auth/sso/oidc/login', from('203.0.113.50'));
		expect(oidc.status).toBe(429);
		expect(await oidc.text()).toContain('Too many sign-ins are in progress');
		const plexRes = await visitor().post(
			'/api/auth/plex/start',
			{ purpose: 'login' },
			from('203.0.113.50')
		);
		expect(plexRes.status).toBe(429);
		expect(await count('LoginTransaction')).toBe(TOTAL);
		// Expired ones do not count: once they are, sign-ins start again.
		await app.sql`update "LoginTransaction" set "expiresAt" = now() - interval '1 second'`;
		await oidcStart('203.0.113.50');
	}, 60_000);

	test('login page views write nothing', async () => {
		const tables = ['LoginTransaction', 'Session', 'AuditEvent', 'Throttle'];
		const before = await Promise.all(tables.map(count));
		for (let i = 0; i < 50; i++) {
			const res = await browser(app.url).get('/login', from(`203.0.113.${(i % 200) + 1}`));
			expect(res.status).toBe(200);
		}
		expect(await Promise.all(tables.map(count))).toEqual(before);
	}, 60_000);
});

describe('housekeeping', () => {
	test('a stream of starts, then the job: expired and finished sign-ins, expired and ended sessions, ended throttle windows and audit rows past retention are gone; the rest stays', async () => {
		const addresses = Array.from({ length: 5 }, (_, i) => `198.18.0.${i + 1}`);
		for (let round = 0; round < 25; round++) {
			await Promise.all(addresses.map((a) => (round % 2 ? oidcStart(a) : plexStart(a))));
		}
		expect(await count('LoginTransaction')).toBe(addresses.length * PER_ADDRESS);
		// Ten minutes pass for all of them but the ones of the last address; one is finished.
		await app.sql`
			update "LoginTransaction" set "expiresAt" = now() - interval '1 minute'
			where not ip <<= '198.18.0.5/32'
		`;
		await app.sql`
			update "LoginTransaction" set "usedAt" = now()
			where id = (select id from "LoginTransaction" where ip <<= '198.18.0.5/32' limit 1)
		`;

		await app.sql`delete from "Session"`;
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
			await expect
				.poll(async () => count('LoginTransaction'), { timeout: 15_000 })
				.toBe(PER_ADDRESS - 1);
			expect(await second.logs()).toContain('Housekeeping purged expired rows');
		} finally {
			await second.stop();
		}
		expect(await openByAddress()).toEqual({ '198.18.0.5': PER_ADDRESS - 1 });
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
