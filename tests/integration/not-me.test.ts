// "Not me" (issue 31, part 2): the link a new-browser or recovery-code alert carries, received by a
// real local webhook. A GET only shows the confirmation; the POST ends that session, pauses the
// method (never the last way in), and audits; the link works once and for 24 hours; a wrong token
// writes nothing; a paused method refuses sign-in with words, and a sign-in another way lifts it.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { derivedKey, loadKey, seal } from '../../src/lib/server/crypto';
import {
	hashRecoveryCode,
	newRecoveryCode,
	normaliseRecoveryCode
} from '../../src/lib/server/auth/recovery-codes';
import { startReceiver, type Receiver } from '../helpers/alert-receivers';
import { browser, freshDatabase, insertAdmin, startApp, type App } from '../helpers/app';

const SECRET_KEY = 'not-me test secret key';
const WEBHOOK_SECRET = 'webhook-signing-secret-0123456789';
const ENV = { SECRET_KEY, ALERT_POLL_MS: '200', ALERT_RETRY_BASE_MS: '300' };

let db: Awaited<ReturnType<typeof freshDatabase>>;
let app: App;
let hook: Receiver;
let userId: number;

beforeAll(async () => {
	db = await freshDatabase();
	userId = await insertAdmin(db.sql);
	app = await startApp(ENV, db);
	hook = await startReceiver('webhook', { secret: WEBHOOK_SECRET });
	const sealed = seal(
		JSON.stringify({ kind: 'webhook', url: `${hook.url}/hook`, secret: WEBHOOK_SECRET }),
		loadKey({ SECRET_KEY })
	);
	await db.sql`
		insert into "AlertChannel" (kind, name, settings, summary)
		values ('webhook', 'hook', ${sealed}, 'webhook')`;
});
afterAll(async () => {
	await app?.stop();
	await hook?.stop();
});

async function waitFor<T>(what: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await what();
		if (value) return value;
		if (Date.now() > deadline) throw new Error('timed out waiting');
		await new Promise((r) => setTimeout(r, 50));
	}
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Signs in from a fresh browser and gives the browser and the "Not me" link its alert carried. */
async function signInAndGetLink() {
	const b = browser(app.url);
	const res = await b.signIn();
	expect(res.status).toBe(303);
	// The link bound to this browser's session (other sign-ins' alerts may still be arriving).
	const sessionId = sha256(b.jar.get('librariarr_session') ?? '');
	const [row] = await db.sql`select id from "NotMe" where "sessionId" = ${sessionId}`;
	expect(row, 'a NotMe row for the session').toBeTruthy();
	const message = await waitFor(() =>
		hook.received
			.map((r) => JSON.parse(r.body))
			.find((m) => m.link && sha256(new URL(m.link).pathname.split('/').at(-1)!) === row.id)
	);
	const link = new URL(message.link);
	expect(link.origin).toBe(app.url);
	expect(link.pathname).toMatch(/^\/not-me\/[a-z2-7]{32}$/);
	return { b, path: link.pathname };
}

const count = async (table: string) =>
	Number((await db.sql`select count(*) from ${db.sql(table)}`)[0].count);

/** Everything a "Not me" can change, to compare before and after. */
const snapshot = async () => ({
	notMe: await db.sql`select id, "usedAt" from "NotMe" order by id`,
	sessions: await count('Session'),
	audit: await count('AuditEvent'),
	paused: (await db.sql`select "pausedMethods" from "User" where id = ${userId}`)[0].pausedMethods
});

/** Makes Plex a second way in (the rule counts a linked account with Plex sign-in on). */
async function plexToo(on: boolean) {
	await db.sql`update "User" set "plexId" = ${on ? '1001' : null} where id = ${userId}`;
	await db.sql`update "AppSettings" set "plexLoginEnabled" = ${on}`;
}

describe('Not me', () => {
	test('the alert carries the link; GET changes nothing; POST ends the session, pauses, audits; once only', async () => {
		await plexToo(true);
		const { b, path } = await signInAndGetLink();
		expect((await b.get('/settings/security')).status).toBe(200);
		// Only a hash of the token is stored.
		const rows = await db.sql`select id, "sessionId" from "NotMe"`;
		expect(rows.some((r) => path.endsWith(r.id))).toBe(false);

		// A plain GET, signed out (another device), changes nothing.
		const other = browser(app.url);
		const before = await snapshot();
		const page = await other.get(path);
		expect(page.status).toBe(200);
		expect(await page.text()).toContain('It was not me: end that session');
		expect(await snapshot()).toEqual(before);

		const done = await other.post(path, {});
		expect(done.status).toBe(200);
		expect(await done.text()).toContain('is paused for this account until you sign in another way');
		// That session is over.
		expect((await b.get('/settings/security')).status).toBe(303);
		const [user] = await db.sql`select "pausedMethods" from "User" where id = ${userId}`;
		expect(user.pausedMethods).toEqual(['local']);
		const [audit] = await db.sql`
			select method, detail from "AuditEvent" where event = 'not_me.confirmed'`;
		expect(audit.method).toBe('local');
		expect(audit.detail).toMatchObject({ paused: true, sessionEnded: true });

		// Single use: a second POST and a GET find nothing, and change nothing.
		const after = await snapshot();
		expect((await other.post(path, {})).status).toBe(410);
		expect((await other.get(path)).status).toBe(404);
		expect(await snapshot()).toEqual(after);
	});

	test('a paused method refuses sign-in with words; a sign-in another way lifts the pause', async () => {
		const b = browser(app.url);
		const refused = await b.signIn();
		expect(refused.status).toBe(303);
		expect(refused.headers.get('location')).toBe('/login?paused=local');
		const page = await (await b.get('/login?paused=local')).text();
		expect(page).toContain('Signing in with the password is paused for this account');
		expect((await b.get('/settings/security')).status).toBe(303);

		// A recovery code is another way: it signs in, and lifts the pause.
		const code = newRecoveryCode();
		const hmac = derivedKey('recovery-codes', loadKey({ SECRET_KEY }));
		await db.sql`
			insert into "RecoveryCode" ("userId", "codeHash")
			values (${userId}, ${hashRecoveryCode(normaliseRecoveryCode(code)!, hmac)})`;
		const recovered = await browser(app.url).post('/login/recovery', { username: 'admin', code });
		expect(recovered.status).toBe(303);
		expect(recovered.headers.get('location')).toContain('/settings/authentication');
		const [user] = await db.sql`select "pausedMethods" from "User" where id = ${userId}`;
		expect(user.pausedMethods).toEqual([]);
		expect(await count('AuditEvent')).toBeGreaterThan(0);
		const [lifted] = await db.sql`select 1 from "AuditEvent" where event = 'not_me.pause_lifted'`;
		expect(lifted).toBeTruthy();
		expect((await browser(app.url).signIn()).status).toBe(303);
	});

	test('the last way in is never paused: the session ends anyway, and the page says why', async () => {
		await plexToo(false);
		const { b, path } = await signInAndGetLink();
		const done = await browser(app.url).post(path, {});
		expect(done.status).toBe(200);
		expect(await done.text()).toContain('it is the only way left to sign in');
		expect((await b.get('/settings/security')).status).toBe(303);
		const [user] = await db.sql`select "pausedMethods" from "User" where id = ${userId}`;
		expect(user.pausedMethods).toEqual([]);
		const [audit] = await db.sql`
			select detail from "AuditEvent" where event = 'not_me.confirmed' order by id desc limit 1`;
		expect(audit.detail).toMatchObject({ paused: false, refused: 'last-way-in' });
		expect((await browser(app.url).signIn()).status).toBe(303);
	});

	test('an expired link is refused and changes nothing', async () => {
		await plexToo(true);
		const { b, path } = await signInAndGetLink();
		await db.sql`update "NotMe" set "expiresAt" = now() - interval '1 second'
			where "usedAt" is null`;
		const before = await snapshot();
		expect((await browser(app.url).get(path)).status).toBe(404);
		expect((await browser(app.url).post(path, {})).status).toBe(410);
		expect(await snapshot()).toEqual(before);
		expect((await b.get('/settings/security')).status).toBe(200);
	});

	test('wrong and malformed tokens write nothing (strangers write nothing)', async () => {
		const before = await snapshot();
		const stranger = browser(app.url);
		for (const token of ['a'.repeat(32), 'not-a-token', 'x'.repeat(5000), '%00%27']) {
			const get = await stranger.get(`/not-me/${token}`);
			expect([404, 414, 431]).toContain(get.status);
			const post = await stranger.post(`/not-me/${token}`, {});
			expect([410, 414, 431]).toContain(post.status);
		}
		expect(await snapshot()).toEqual(before);
	});

	test('Settings → Security shows the pause and lifts it', async () => {
		const admin = browser(app.url);
		expect((await admin.signIn()).status).toBe(303);
		await db.sql`update "User" set "pausedMethods" = '{local}' where id = ${userId}`;
		expect((await browser(app.url).signIn()).headers.get('location')).toBe('/login?paused=local');
		const page = await (await admin.get('/settings/security')).text();
		expect(page).toContain('Paused after “Not me”');
		expect(page).toContain('Signing in with the password');
		const lifted = await admin.post('/settings/security?/resumeSignIn', {});
		expect(lifted.status).toBe(200);
		const [user] = await db.sql`select "pausedMethods" from "User" where id = ${userId}`;
		expect(user.pausedMethods).toEqual([]);
		expect((await admin.post('/settings/security?/resumeSignIn', {})).status).toBe(404);
		expect((await browser(app.url).signIn()).status).toBe(303);
		expect((await browser(app.url).signIn()).headers.get('location')).not.toContain('paused');
	});

	test('a paused password starts no authenticator-code step', async () => {
		const key = loadKey({ SECRET_KEY });
		await db.sql`update "User" set "totpSecret" = ${seal('JBSWY3DPEHPK3PXP', key)},
			"pausedMethods" = '{local}' where id = ${userId}`;
		try {
			const res = await browser(app.url).signIn();
			expect(res.status).toBe(303);
			expect(res.headers.get('location')).toBe('/login?paused=local');
		} finally {
			await db.sql`update "User" set "totpSecret" = null, "pausedMethods" = '{}'
				where id = ${userId}`;
		}
	});
});
