// Settings → Security, "Sign-in history": the audit trail a page at a time, its filters, the
// CSV download, and the home page's "Last sign-in" line.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

// TRUSTED_PROXIES covers the test's own address, so X-Forwarded-For can play other clients.
let app: App;
beforeAll(async () => {
	app = await startApp({ TRUSTED_PROXIES: '127.0.0.1/32, ::1' });
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`delete from "AuditEvent"`;
	await app.sql`delete from "Throttle"`;
	await insertAdmin(app.sql);
});

function as(ip: string, userAgent = 'node') {
	return { headers: { 'x-forwarded-for': ip, 'user-agent': userAgent } };
}

async function signedIn(ip = '203.0.113.5') {
	const b = browser(app.url);
	const res = await b.post(
		'/login',
		{ username: 'admin', password: 'correct horse battery' },
		as(ip)
	);
	expect(res.status).toBe(303);
	return b;
}

/** `count` events one minute apart, the last one newest, numbered in detail.n. */
async function insertEvents(count: number, event = 'logout', method: string | null = 'local') {
	await app.sql`
		insert into "AuditEvent" ("occurredAt", event, method, ip, detail)
		select now() - make_interval(mins => ${count} - n), ${event}, ${method}, '192.0.2.' || n,
			jsonb_build_object('username', 'user' || n)
		from generate_series(1, ${count}) n
	`;
}

function historyRows(html: string) {
	return [...html.matchAll(/<tr data-event="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => ({
		event: m[1],
		text: m[2]
	}));
}

describe('sign-in history', () => {
	test('a failed sign-in is kept with address, browser, username and reason', async () => {
		const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
		await browser(app.url).post(
			'/login',
			{ username: 'mallory', password: 'guess' },
			as('198.51.100.9', firefox)
		);
		const [row] =
			await app.sql`select ip, "userAgent" from "AuditEvent" where event = 'login.failed'`;
		expect(row).toEqual({ ip: '198.51.100.9', userAgent: firefox });
		const b = await signedIn();
		const html = await (await b.get('/settings/security?event=login.failed')).text();
		const rows = historyRows(html);
		expect(rows).toHaveLength(1);
		expect(rows[0].text).toContain('198.51.100.9');
		expect(rows[0].text).toContain('Firefox 133 on Linux');
		expect(rows[0].text).toContain('Wrong username or password');
		expect(rows[0].text).toContain('mallory');
	});

	test('25 events a page, newest first, and the rest on the next page', async () => {
		await insertEvents(30);
		const b = await signedIn();
		const first = historyRows(await (await b.get('/settings/security?event=logout')).text());
		expect(first).toHaveLength(25);
		expect(first[0].text).toContain('192.0.2.30');
		expect(first[24].text).toContain('192.0.2.6');
		const second = historyRows(
			await (await b.get('/settings/security?event=logout&page=2')).text()
		);
		expect(second.map((r) => /192\.0\.2\.(\d+)/.exec(r.text)![1])).toEqual([
			'5',
			'4',
			'3',
			'2',
			'1'
		]);
	});

	test('filters by event and by method', async () => {
		await insertEvents(3, 'login.failed', 'plex');
		await insertEvents(2, 'login.failed', 'oidc');
		const b = await signedIn();
		const plex = historyRows(
			await (await b.get('/settings/security?event=login.failed&method=plex')).text()
		);
		expect(plex).toHaveLength(3);
		const local = historyRows(await (await b.get('/settings/security?method=local')).text());
		expect(local.map((r) => r.event)).toEqual(['login.succeeded']);
	});

	test.each([
		['event=no.such.event', 'There is no such event'],
		['method=telepathy', 'There is no such sign-in method'],
		['page=0', 'The page number'],
		['page=-1', 'The page number'],
		['page=abc', 'The page number'],
		['page=99999999999', 'The page number']
	])('a bad filter (%s) is refused with a clear message', async (query, message) => {
		const b = await signedIn();
		const res = await b.get(`/settings/security?${query}`);
		expect(res.status).toBe(400);
		expect(await res.text()).toContain(message);
		const csv = await b.get(`/settings/security/history.csv?${query}`);
		expect(csv.status).toBe(400);
	});

	test('the CSV holds every matching event and defuses cells a spreadsheet would run', async () => {
		await browser(app.url).post(
			'/login',
			{ username: '=HYPERLINK("http://evil.example","x")', password: 'guess' },
			as('198.51.100.9', '@SUM(1+1)')
		);
		await insertEvents(30);
		const b = await signedIn();
		const res = await b.get('/settings/security/history.csv');
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
		expect(res.headers.get('content-disposition')).toMatch(
			/^attachment; filename="librariarr-sign-in-history-\d{4}-\d{2}-\d{2}\.csv"$/
		);
		const lines = (await res.text()).trim().split('\r\n');
		expect(lines[0]).toBe(
			'time (UTC),event,times,last time (UTC),method,address,browser,system,username or subject,reason,user agent'
		);
		expect(lines).toHaveLength(1 + 32);
		const failed = lines.find((l) => l.includes('login.failed'))!;
		// (an unknown username names no account: a counted row, with its last time)
		expect(failed).toMatch(
			/^\d{4}-\d{2}-\d{2}T[\d:.]+Z,login\.failed,1,[\d:.TZ-]+,local,198\.51\.100\.9,/
		);
		// (the login form lower-cases usernames)
		expect(failed).toContain(`"'=hyperlink(""http://evil.example"",""x"")"`);
		expect(failed).toContain(",'@SUM(1+1)");
		expect(failed).not.toMatch(/,[=+\-@]/);
		const filtered = await (await b.get('/settings/security/history.csv?event=logout')).text();
		expect(filtered.trim().split('\r\n')).toHaveLength(1 + 30);
	});

	test('a 50,000-row export streams: /healthz keeps answering in under a second', async () => {
		const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
		await app.sql`
			insert into "AuditEvent" ("occurredAt", event, method, ip, detail, "userAgent")
			select now() - make_interval(secs => n), 'login.failed', 'local', '192.0.2.' || (n % 250),
				jsonb_build_object('username', repeat('u', 200) || n), ${firefox} || repeat(' x', 100) || n
			from generate_series(1, 50000) n
		`;
		const b = await signedIn();
		// Polled from the moment the export is asked for: a server that builds the whole file
		// before answering holds the event loop before the first byte.
		let done = false;
		const exported = b
			.get('/settings/security/history.csv')
			.then(async (res) => ({ status: res.status, text: await res.text() }))
			.finally(() => (done = true));
		const waits: number[] = [];
		while (!done) {
			const started = performance.now();
			const health = await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(30_000) });
			expect(health.status).toBe(200);
			waits.push(performance.now() - started);
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		const { status, text } = await exported;
		expect(status).toBe(200);
		expect(text.trim().split('\r\n')).toHaveLength(1 + 50_000);
		expect(Math.max(...waits)).toBeLessThan(1000);
	}, 120_000);

	test('the CSV and the page need a signed-in user', async () => {
		const res = await browser(app.url).get('/settings/security/history.csv');
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toMatch(/^\/login/);
	});
});

describe('the home page after sign-in', () => {
	test('says when, from where and how the previous sign-in was, and the failures since', async () => {
		const first = await signedIn('203.0.113.5');
		expect(await (await first.get('/')).text()).toContain('This is the first sign-in on record.');
		for (let i = 0; i < 2; i++) {
			await browser(app.url).post(
				'/login',
				{ username: 'admin', password: 'wrong' },
				as('198.51.100.66')
			);
		}
		// Failures that name no account are strangers' noise: not counted for the admin.
		for (let i = 0; i < 3; i++) {
			await browser(app.url).post(
				'/login',
				{ username: `nobody${i}`, password: 'wrong' },
				as('198.51.100.67')
			);
		}
		await browser(app.url).get('/api/auth/plex/callback?tx=anything', as('198.51.100.68'));
		const second = await signedIn('203.0.113.77');
		const html = await (await second.get('/')).text();
		const line = /data-testid="last-sign-in"[^>]*>([\s\S]*?)<\/p>/
			.exec(html)![1]
			.replace(/<[^>]+>/g, ' ')
			.replace(/\s+/g, ' ');
		expect(line).toMatch(
			/Last sign-in: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC from 203\.0\.113\.5 via local username and password\./
		);
		expect(line).toContain('2 failed sign-in attempts since.');
	});
});
