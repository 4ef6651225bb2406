// Settings → Security, "Throttles": the keys refused right now, and clearing one lets the next
// attempt through.
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
	await app.sql`delete from "Throttle"`;
	await insertAdmin(app.sql);
});

const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
const ATTACKER = '198.51.100.7';

async function adminElsewhere() {
	const b = browser(app.url);
	const res = await b.post(
		'/login',
		{ username: 'admin', password: 'correct horse battery' },
		from('203.0.113.1')
	);
	expect(res.status).toBe(303);
	return b;
}

async function failTenTimes() {
	for (let i = 0; i < 10; i++) {
		const res = await browser(app.url).post(
			'/login',
			{ username: 'admin', password: 'wrong' },
			from(ATTACKER)
		);
		expect(res.status).toBe(400);
	}
}

async function correctFromAttacker() {
	return browser(app.url).post(
		'/login',
		{ username: 'admin', password: 'correct horse battery' },
		from(ATTACKER)
	);
}

function listedKeys(html: string) {
	return [...html.matchAll(/name="key" value="([^"]+)"/g)].map((m) => m[1]);
}

describe('throttles', () => {
	test('the keys refused right now are listed with when they lift; clearing them lets the next sign-in through', async () => {
		const admin = await adminElsewhere();
		expect(await (await admin.get('/settings/security')).text()).toContain(
			'Nothing is limited right now.'
		);
		await failTenTimes();
		expect((await correctFromAttacker()).status).toBe(429);
		expect((await correctFromAttacker()).status).toBe(429);
		// the refused attempts are one history row with a count
		const refused = await (await admin.get('/settings/security?event=login.throttled')).text();
		expect(refused.match(/<tr data-event="login.throttled"/g)).toHaveLength(1);
		expect(refused).toContain('2 times, the last at');

		const html = await (await admin.get('/settings/security')).text();
		const keys = listedKeys(html);
		expect(keys.sort()).toEqual([`password:account:admin`, `password:pair:${ATTACKER}:admin`]);
		expect(html).toContain(`${ATTACKER} and admin`);
		expect(html).toMatch(/10 of 10/);

		for (const key of keys) {
			const res = await admin.post('/settings/security?/clearThrottle', { key });
			expect(res.status).toBe(200);
			expect(await res.text()).toContain('Cleared the limit on');
		}
		expect(await app.sql`select key from "Throttle" where attempts >= "maxAttempts"`).toEqual([]);
		expect((await correctFromAttacker()).status).toBe(303);
		const [audited] =
			await app.sql`select count(*)::int as n from "AuditEvent" where event = 'throttle.cleared'`;
		expect(audited.n).toBe(2);
	});

	test('a key that is not limited, a missing key or a huge one is refused and clears nothing', async () => {
		const admin = await adminElsewhere();
		await failTenTimes();
		const cases: [Record<string, string>, number][] = [
			[{ key: 'password:account:nobody' }, 404],
			[{}, 400],
			[{ key: '' }, 400],
			[{ key: 'x'.repeat(5000) }, 400]
		];
		for (const [form, status] of cases) {
			expect((await admin.post('/settings/security?/clearThrottle', form)).status).toBe(status);
		}
		expect((await correctFromAttacker()).status).toBe(429);
	});

	test('a key with a NUL in it is a 400 with the control-character message, never a 500', async () => {
		const admin = await adminElsewhere();
		const res = await admin.post('/settings/security?/clearThrottle', { key: 'x\u0000y' });
		expect(res.status).toBe(400);
		expect(await res.text()).toContain('Remove the control characters');
	});

	test('every address of one IPv6 /64 counts against one address key', async () => {
		for (let i = 1; i <= 10; i++) {
			const res = await browser(app.url).post(
				'/login',
				{ username: `nobody${i}`, password: 'wrong' },
				from(`2001:db8:7:8::${i.toString(16)}`)
			);
			expect(res.status).toBe(400);
		}
		const rows = await app.sql<{ key: string; attempts: number }[]>`
			select key, attempts from "Throttle" where key like 'password:address:%'`;
		expect(rows).toEqual([{ key: 'password:address:2001:db8:7:8::/64', attempts: 10 }]);
	});

	test('signed out, or from another site, nothing is cleared', async () => {
		const admin = await adminElsewhere();
		await failTenTimes();
		const key = `password:pair:${ATTACKER}:admin`;
		const signedOut = await browser(app.url).post('/settings/security?/clearThrottle', { key });
		expect(signedOut.status).toBe(303);
		expect(signedOut.headers.get('location')).toMatch(/^\/login/);
		const crossSite = await admin.post(
			'/settings/security?/clearThrottle',
			{ key },
			{ origin: 'http://evil.example' }
		);
		expect(crossSite.status).toBe(403);
		expect(await app.sql`select key from "Throttle" where key = ${key}`).toHaveLength(1);
	});
});
