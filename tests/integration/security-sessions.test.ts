// Settings → Security, "Your sessions": what the list exposes, who can end which session, and
// what "last seen" costs.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

let app: App;
beforeAll(async () => {
	app = await startApp();
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`delete from "AuditEvent"`;
	await insertAdmin(app.sql);
});

async function signedIn(username = 'admin', userAgent?: string) {
	const b = browser(app.url);
	const res = await b.post(
		'/login',
		{ username, password: 'correct horse battery' },
		userAgent ? { headers: { 'user-agent': userAgent } } : {}
	);
	expect(res.status).toBe(303);
	return b;
}

async function sessionRows() {
	return app.sql<{ id: string; publicId: string; userId: number; lastSeenAt: Date }[]>`
		select s.id, s."publicId", s."userId", s."lastSeenAt" from "Session" s order by "createdAt"
	`;
}

describe('your sessions', () => {
	test('the list names each session by its public id and never by the id that authenticates', async () => {
		const here = await signedIn();
		await signedIn('admin', FIREFOX);
		const page = await (await here.get('/settings/security')).text();
		const rows = await sessionRows();
		expect(rows).toHaveLength(2);
		for (const row of rows) {
			expect(page).not.toContain(row.id);
			expect(page).toContain(row.publicId);
		}
		expect(page).not.toContain(here.jar.get('librariarr_session'));
		expect(page).toContain('Firefox 133');
		expect(page).toContain('This browser');
	});

	test('signing out another of your sessions ends it, and is audited with the browser', async () => {
		const here = await signedIn();
		const there = await signedIn('admin', FIREFOX);
		const [, other] = await sessionRows();
		const res = await here.post('/settings/security?/revoke', { session: other.publicId });
		expect(res.status).toBe(200);
		expect(await res.text()).toContain('The session was signed out.');
		expect((await there.get('/')).headers.get('location')).toBe('/login');
		expect((await here.get('/')).status).toBe(200);
		const [event] = await app.sql`
			select "userAgent" from "AuditEvent" where event = 'session.revoked'
		`;
		expect(event.userAgent).toBe('node');
	});

	test("another user's session cannot be signed out by its public id", async () => {
		await insertAdmin(app.sql, {
			username: 'bob',
			displayName: 'Bob',
			password: 'correct horse battery'
		});
		const here = await signedIn();
		const bob = browser(app.url);
		expect((await bob.signIn('bob', 'correct horse battery')).status).toBe(303);
		const [bobs] = await app.sql<{ publicId: string }[]>`
			select s."publicId" from "Session" s join "User" u on u.id = s."userId"
			where u."localUsername" = 'bob'
		`;
		const res = await here.post('/settings/security?/revoke', { session: bobs.publicId });
		expect(res.status).toBe(404);
		expect((await bob.get('/')).status).toBe(200);
	});

	test('a malformed, missing or current session value is refused and ends nothing', async () => {
		const here = await signedIn();
		const there = await signedIn();
		const [mine] = await sessionRows();
		const forms: Record<string, string>[] = [{ session: "x' or 1=1 --" }, {}, { session: '' }];
		for (const form of forms) {
			const res = await here.post('/settings/security?/revoke', form);
			expect(res.status).toBe(400);
		}
		const current = await here.post('/settings/security?/revoke', { session: mine.publicId });
		expect(current.status).toBe(400);
		expect(await current.text()).toContain('this browser’s session');
		expect(await sessionRows()).toHaveLength(2);
		expect((await there.get('/')).status).toBe(200);
	});

	test('signing out all other sessions keeps only this one', async () => {
		const here = await signedIn();
		const a = await signedIn();
		const b = await signedIn();
		const res = await here.post('/settings/security?/revokeOthers', {});
		expect(await res.text()).toContain('Signed out 2 other sessions.');
		expect((await a.get('/')).headers.get('location')).toBe('/login');
		expect((await b.get('/')).headers.get('location')).toBe('/login');
		expect((await here.get('/')).status).toBe(200);
	});

	test('a cross-site post cannot sign sessions out', async () => {
		const here = await signedIn();
		await signedIn();
		const res = await here.post(
			'/settings/security?/revokeOthers',
			{},
			{ origin: 'http://evil.example' }
		);
		expect(res.status).toBe(403);
		expect(await sessionRows()).toHaveLength(2);
	});
});

describe('last seen', () => {
	test('is written back once an hour at most: the first request after an hour writes, the next does not', async () => {
		const b = await signedIn();
		await app.sql`update "Session" set "lastSeenAt" = now() - interval '61 minutes'`;
		const [stale] = await sessionRows();
		expect((await b.get('/')).status).toBe(200);
		const [fresh] = await sessionRows();
		expect(Date.now() - fresh.lastSeenAt.getTime()).toBeLessThan(60_000);
		expect(fresh.lastSeenAt.getTime()).toBeGreaterThan(stale.lastSeenAt.getTime());
		for (let i = 0; i < 3; i++) expect((await b.get('/')).status).toBe(200);
		const [again] = await sessionRows();
		expect(again.lastSeenAt).toEqual(fresh.lastSeenAt);
	});

	test('within the hour nothing is written', async () => {
		const b = await signedIn();
		await app.sql`update "Session" set "lastSeenAt" = now() - interval '59 minutes'`;
		const [before] = await sessionRows();
		for (let i = 0; i < 3; i++) expect((await b.get('/')).status).toBe(200);
		const [after] = await sessionRows();
		expect(after.lastSeenAt).toEqual(before.lastSeenAt);
	});
});
