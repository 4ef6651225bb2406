// The session policy (issue 30, part 2): the absolute lifetime, the idle timeout and "Keep me
// signed in", each checked by moving a session's times in the database rather than waiting.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

let app: App;
beforeAll(async () => {
	app = await startApp();
});
afterAll(() => app?.stop());
beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`delete from "Throttle"`;
	await app.sql`delete from "AuditEvent"`;
	await app.sql`update "AppSettings" set "sessionLifetimeHours" = 720, "sessionIdleHours" = null`;
	await insertAdmin(app.sql);
});

const PASSWORD = 'correct horse battery';

async function signedIn(form: Record<string, string> = {}) {
	const b = browser(app.url);
	const res = await b.post('/login', { username: 'admin', password: PASSWORD, ...form });
	expect(res.status).toBe(303);
	return { b, res };
}

/** The session of browser `b`, by its cookie. */
async function sessionOf(b: ReturnType<typeof browser>) {
	const token = b.jar.get('librariarr_session')!;
	const { createHash } = await import('node:crypto');
	const id = createHash('sha256').update(token).digest('hex');
	const [row] = await app.sql<{ keepSignedIn: boolean; lifetime: number; sinceSeen: number }[]>`
		select "keepSignedIn", extract(epoch from "expiresAt" - "createdAt")::int as lifetime,
			extract(epoch from now() - "lastSeenAt")::int as "sinceSeen"
		from "Session" where id = ${id}
	`;
	return { id, row };
}

/** Moves a session's clock: it began `createdHours` ago and was last seen `seenHours` ago. */
async function age(id: string, createdHours: number, seenHours: number) {
	await app.sql`
		update "Session"
		set "createdAt" = now() - make_interval(secs => ${createdHours * 3600}),
			"lastSeenAt" = now() - make_interval(secs => ${seenHours * 3600})
		where id = ${id}
	`;
}

const signedOut = async (b: ReturnType<typeof browser>) => {
	const res = await b.get('/');
	return res.status === 303 && res.headers.get('location') === '/login';
};

/** Saves the policy from a session older than the step-up window (no proof from the sign-in). */
async function savePolicy(form: Record<string, string>) {
	const { b } = await signedIn();
	const { id } = await sessionOf(b);
	await app.sql`update "Session" set "createdAt" = now() - interval '1 hour' where id = ${id}`;
	return b.post('/settings/security?/sessionPolicy', form);
}

const stored = async () =>
	(await app.sql`select "sessionLifetimeHours", "sessionIdleHours" from "AppSettings"`)[0];

describe('absolute lifetime', () => {
	test('a session ends at the lifetime after sign-in, however active it was', async () => {
		const { b } = await signedIn();
		const { id } = await sessionOf(b);
		await age(id, 29 * 24, 0.5);
		expect(await signedOut(b)).toBe(false);
		// Active a minute ago and its stored expiry still ahead: 30 days from sign-in end it.
		await age(id, 30 * 24 + 0.1, 1 / 60);
		await app.sql`update "Session" set "expiresAt" = now() + interval '1 day' where id = ${id}`;
		expect(await signedOut(b)).toBe(true);
	});

	test('the renewal never moves the stored end past the lifetime', async () => {
		const { b } = await signedIn();
		const { id } = await sessionOf(b);
		await age(id, 10 * 24, 2);
		expect(await signedOut(b)).toBe(false);
		const { row } = await sessionOf(b);
		expect(row.sinceSeen).toBeLessThan(60);
		expect(row.lifetime).toBe(30 * 86400);
	});

	test('a shorter lifetime ends an existing session at its next request', async () => {
		const { b: old } = await signedIn();
		const { id } = await sessionOf(old);
		await age(id, 25, 0.2);
		expect(await signedOut(old)).toBe(false);
		const res = await savePolicy({ lifetimeHours: '24', idleHours: 'off' });
		expect(res.status).toBe(200);
		expect(await res.text()).toContain('Sessions now last 1 day from sign-in');
		expect(await stored()).toEqual({ sessionLifetimeHours: 24, sessionIdleHours: null });
		expect(await signedOut(old)).toBe(true);
		const [audit] = await app.sql`
			select detail from "AuditEvent" where event = 'settings.session_policy'
		`;
		expect(audit.detail).toEqual({
			lifetimeHours: 24,
			idleHours: null,
			previousLifetimeHours: 720,
			previousIdleHours: null
		});
	});
});

describe('idle timeout', () => {
	test('off by default: a session unseen for weeks stays signed in', async () => {
		const { b } = await signedIn();
		const { id } = await sessionOf(b);
		await age(id, 20 * 24, 20 * 24);
		expect(await signedOut(b)).toBe(false);
	});

	test('a session unseen for longer than the timeout (plus the hour of precision) ends', async () => {
		expect((await savePolicy({ lifetimeHours: '720', idleHours: '8' })).status).toBe(200);
		const { b: recent } = await signedIn();
		const { b: idle } = await signedIn();
		// "Last seen" trails the last request by up to an hour: 8.5 hours unseen is still inside.
		await age((await sessionOf(recent)).id, 48, 8.5);
		await age((await sessionOf(idle)).id, 48, 9.05);
		expect(await signedOut(recent)).toBe(false);
		expect(await signedOut(idle)).toBe(true);
	});

	test('the hourly renewal moves the idle clock, and the cookie with it', async () => {
		expect((await savePolicy({ lifetimeHours: '720', idleHours: '8' })).status).toBe(200);
		const { b } = await signedIn();
		const { id, row: first } = await sessionOf(b);
		// The stored end of a new session: the idle timeout and its hour.
		expect(first.lifetime).toBe(9 * 3600);
		await age(id, 5, 2);
		const res = await b.get('/');
		expect(res.status).toBe(200);
		expect(res.headers.get('set-cookie')).toMatch(
			/^librariarr_session=[a-z2-7]{32}; Path=\/; Expires=/
		);
		const [after] = await app.sql<{ left: number; sinceSeen: number }[]>`
			select extract(epoch from "expiresAt" - now())::int as left,
				extract(epoch from now() - "lastSeenAt")::int as "sinceSeen"
			from "Session" where id = ${id}
		`;
		expect(after.sinceSeen).toBeLessThan(60);
		expect(after.left).toBeGreaterThan(9 * 3600 - 60);
		// A request within the hour writes nothing.
		const [before] =
			await app.sql`select "expiresAt", "lastSeenAt" from "Session" where id = ${id}`;
		expect((await b.get('/')).headers.get('set-cookie')).toBeNull();
		const [again] = await app.sql`select "expiresAt", "lastSeenAt" from "Session" where id = ${id}`;
		expect(again).toEqual(before);
	});
});

describe('Keep me signed in', () => {
	test('checked (the default): a lasting cookie and the full lifetime', async () => {
		const { b, res } = await signedIn({ keepSignedInOffered: 'yes', keepSignedIn: 'yes' });
		expect(res.headers.get('set-cookie')).toMatch(
			/^librariarr_session=[a-z2-7]{32}; Path=\/; Expires=/
		);
		const { id, row } = await sessionOf(b);
		expect(row).toMatchObject({ keepSignedIn: true, lifetime: 30 * 86400 });
		await age(id, 13, 0.5);
		expect(await signedOut(b)).toBe(false);
	});

	test('a post without the form’s fields (a script) keeps the default', async () => {
		const { b } = await signedIn();
		expect((await sessionOf(b)).row.keepSignedIn).toBe(true);
	});

	test('unchecked: a browser-session cookie, and signed out 12 hours after sign-in', async () => {
		const { b, res } = await signedIn({ keepSignedInOffered: 'yes' });
		const cookie = res.headers.getSetCookie().find((c) => c.startsWith('librariarr_session='))!;
		expect(cookie).toMatch(/^librariarr_session=[a-z2-7]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
		const { id, row } = await sessionOf(b);
		expect(row).toMatchObject({ keepSignedIn: false, lifetime: 12 * 3600 });
		// Its renewal sends the cookie again, still without an expiry.
		await age(id, 11, 2);
		const renewed = await b.get('/');
		expect(renewed.status).toBe(200);
		expect(renewed.headers.get('set-cookie')).toMatch(
			/^librariarr_session=[a-z2-7]{32}; Path=\/; HttpOnly; SameSite=Lax$/
		);
		await age(id, 12.05, 0.1);
		expect(await signedOut(b)).toBe(true);
	});

	test('a lifetime shorter than 12 hours applies to it too', async () => {
		await app.sql`update "AppSettings" set "sessionLifetimeHours" = 2`;
		const { b } = await signedIn({ keepSignedInOffered: 'yes' });
		const { id, row } = await sessionOf(b);
		expect(row.lifetime).toBe(2 * 3600);
		await age(id, 2.05, 0.1);
		expect(await signedOut(b)).toBe(true);
	});

	test('a refused sign-in keeps the box as it was', async () => {
		const b = browser(app.url);
		const res = await b.post('/login', {
			username: 'admin',
			password: 'wrong',
			keepSignedInOffered: 'yes'
		});
		expect(res.status).toBe(400);
		const html = await res.text();
		expect(html).toMatch(/<input[^>]*id="keep-signed-in"/);
		expect(html).not.toMatch(/<input[^>]*id="keep-signed-in"[^>]*checked/);
	});
});

describe('the Sessions card', () => {
	test('shows the stored policy and says the idle timeout is accurate to the hour', async () => {
		const { b } = await signedIn();
		const html = await (await b.get('/settings/security')).text();
		expect(html).toContain('The idle timeout is accurate to the hour');
		expect(html).toMatch(/<option value="720" selected[^>]*>30 days<\/option>/);
		expect(html).toMatch(/<option value="off" selected[^>]*>Off<\/option>/);
	});

	test('a longer lifetime or idle timeout needs step-up; nothing changes without it', async () => {
		const res = await savePolicy({ lifetimeHours: '2160', idleHours: 'off' });
		expect(res.status).toBe(403);
		expect(await stored()).toEqual({ sessionLifetimeHours: 720, sessionIdleHours: null });
		await app.sql`update "AppSettings" set "sessionIdleHours" = 8`;
		const off = await savePolicy({ lifetimeHours: '720', idleHours: 'off' });
		expect(off.status).toBe(403);
		expect(await stored()).toEqual({ sessionLifetimeHours: 720, sessionIdleHours: 8 });
		const proven = await savePolicy({
			lifetimeHours: '2160',
			idleHours: 'off',
			currentPassword: PASSWORD
		});
		expect(proven.status).toBe(200);
		expect(await stored()).toEqual({ sessionLifetimeHours: 2160, sessionIdleHours: null });
	});

	test('hostile or out-of-range values: a clear 400 and nothing changed', async () => {
		const cases: [Record<string, string>, string][] = [
			[{ lifetimeHours: '99999', idleHours: 'off' }, 'Choose a lifetime from 1 hour to 365 days.'],
			[{ lifetimeHours: '0', idleHours: 'off' }, 'Choose a lifetime from 1 hour to 365 days.'],
			[{ lifetimeHours: '-5', idleHours: 'off' }, 'Choose a lifetime from 1 hour to 365 days.'],
			[{ lifetimeHours: '1e3', idleHours: 'off' }, 'Choose a lifetime from 1 hour to 365 days.'],
			[{ idleHours: 'off' }, 'Choose a lifetime from 1 hour to 365 days.'],
			[
				{ lifetimeHours: '24', idleHours: '721' },
				'Choose an idle timeout from 1 hour to 30 days, or Off.'
			],
			[
				{ lifetimeHours: '24', idleHours: '0' },
				'Choose an idle timeout from 1 hour to 30 days, or Off.'
			],
			[{ lifetimeHours: '24', idleHours: 'never\u0000' }, 'Remove the control characters'],
			[{ lifetimeHours: '24' }, 'Choose an idle timeout from 1 hour to 30 days, or Off.']
		];
		for (const [form, message] of cases) {
			const res = await savePolicy(form);
			expect(res.status, JSON.stringify(form)).toBe(400);
			expect(await res.text()).toContain(message);
		}
		expect(await stored()).toEqual({ sessionLifetimeHours: 720, sessionIdleHours: null });
		expect(
			await app.sql`select 1 from "AuditEvent" where event = 'settings.session_policy'`
		).toHaveLength(0);
	});
});
