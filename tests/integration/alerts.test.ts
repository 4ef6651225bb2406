// Alerts (issue 31, part 1) against real local receivers (tests/helpers/alert-receivers.ts):
// every kind of channel gets its documented request shape, the webhook's signature checks out,
// a sign-in only queues its alert (a slow or dead receiver does not slow it: the sign-in answers
// before the receiver does), repeats collapse into one message with a count, failures are retried
// and then kept as failed, the outbox is bounded, kinds switched off send nothing, and two
// instances on one database send each message once.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { derivedKey, loadKey, seal } from '../../src/lib/server/crypto';
import {
	hashRecoveryCode,
	newRecoveryCode,
	normaliseRecoveryCode
} from '../../src/lib/server/auth/recovery-codes';
import { startReceiver, type Receiver } from '../helpers/alert-receivers';
import { browser, freshDatabase, insertAdmin, startApp, type App } from '../helpers/app';
import { startServer } from '../helpers/server.js';

const SECRET_KEY = 'alerts test secret key';
const WEBHOOK_SECRET = 'webhook-signing-secret-0123456789';
const ENV = {
	SECRET_KEY,
	TRUSTED_PROXIES: '127.0.0.1/32',
	ALERT_POLL_MS: '200',
	ALERT_RETRY_BASE_MS: '300',
	ALERT_TIMEOUT_MS: '1500',
	ALERT_HOLD_MS: '1500',
	METRICS_TOKEN: 'metrics-token-for-alerts-0123456789'
};

let db: Awaited<ReturnType<typeof freshDatabase>>;
let app: App;
const receivers: Receiver[] = [];

beforeAll(async () => {
	db = await freshDatabase();
	await insertAdmin(db.sql);
	await insertAdmin(db.sql, { username: 'second', displayName: 'Second' });
	app = await startApp(ENV, db);
});
afterAll(async () => {
	await app?.stop();
	await Promise.all(receivers.map((r) => r.stop()));
});

async function receiver(...args: Parameters<typeof startReceiver>) {
	const r = await startReceiver(...args);
	receivers.push(r);
	return r;
}

/** A channel straight into the table, sealed with the server's key (the page is tested apart). */
async function addChannel(kind: string, settings: Record<string, unknown>) {
	const sealed = seal(JSON.stringify({ kind, ...settings }), loadKey({ SECRET_KEY }));
	const [row] = await db.sql<{ id: number }[]>`
		insert into "AlertChannel" (kind, name, settings, summary)
		values (${kind}, ${kind}, ${sealed}, ${kind}) returning id`;
	return row.id;
}

async function clearChannels() {
	await db.sql`delete from "AlertChannel"`;
	await db.sql`update "AlertSettings" set events = default`;
}

/** A sign-in from a fresh browser (no known-device cookie) at the address the proxy names. */
async function signInFrom(ip: string, b = browser(app.url)) {
	const res = await b.post(
		'/login',
		{ username: 'admin', password: 'correct horse battery' },
		{ headers: { 'x-forwarded-for': ip } }
	);
	expect(res.status).toBe(303);
	return b;
}

type Falsy = null | undefined | false | 0 | '';

/** Polls until `what` gives something truthy, and gives that. */
async function waitFor<T>(
	what: () => T | Promise<T>,
	timeoutMs = 10_000
): Promise<Exclude<T, Falsy>> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await what();
		if (value) return value as Exclude<T, Falsy>;
		if (Date.now() > deadline) throw new Error('timed out waiting');
		await new Promise((r) => setTimeout(r, 50));
	}
}

describe('alerts', () => {
	test('a new browser: each channel gets its documented request, with the client address', async () => {
		await clearChannels();
		const ntfy = await receiver('ntfy');
		const apprise = await receiver('apprise');
		const discord = await receiver('discord');
		const hook = await receiver('webhook', { secret: WEBHOOK_SECRET });
		await addChannel('ntfy', { server: ntfy.url, topic: 'librariarr-alerts', token: 'tk_abc' });
		await addChannel('apprise', { url: `${apprise.url}/notify/apprise-key` });
		await addChannel('discord', { url: `${discord.url}/api/webhooks/1/tok` });
		await addChannel('webhook', { url: `${hook.url}/hook`, secret: WEBHOOK_SECRET });

		const b = await signInFrom('198.51.100.7');
		await waitFor(() => [ntfy, apprise, discord, hook].every((r) => r.received.length === 1));

		const n = ntfy.received[0];
		expect(n.path).toBe('/librariarr-alerts');
		expect(n.headers.authorization).toBe('Bearer tk_abc');
		expect(n.headers.title).toBe('Librariarr: Sign-in from a new browser');
		expect(n.body).toContain('Account: Ada Admin');
		expect(n.body).toContain('Address: 198.51.100.7');

		const a = JSON.parse(apprise.received[0].body);
		expect(apprise.received[0].path).toBe('/notify/apprise-key');
		expect(a).toMatchObject({ title: 'Librariarr: Sign-in from a new browser', type: 'warning' });
		expect(a.body).toContain('198.51.100.7');

		const d = JSON.parse(discord.received[0].body);
		expect(d.content).toContain('Sign-in from a new browser');
		expect(d.allowed_mentions).toEqual({ parse: [] });

		expect(hook.received[0].signatureOk).toBe(true);
		const w = JSON.parse(hook.received[0].body);
		expect(w).toMatchObject({
			type: 'librariarr.alert',
			kind: 'new_browser',
			account: 'Ada Admin',
			address: '198.51.100.7',
			count: 1,
			test: false
		});

		// The answers are recorded on the channels, and the rows are sent. (A row is marked sent a
		// moment before its channel records the answer: wait for both.)
		await waitFor(async () => {
			const rows = await db.sql`select status from "AlertOutbox" where status <> 'sent'`;
			const unanswered = await db.sql`
				select id from "AlertChannel" where "lastOutcome" is distinct from 'sent'`;
			return rows.length === 0 && unanswered.length === 0;
		});
		const channels = await db.sql`select "lastOutcome" from "AlertChannel"`;
		expect(channels.map((c) => c.lastOutcome)).toEqual(['sent', 'sent', 'sent', 'sent']);

		const metrics = await (
			await fetch(`${app.url}/metrics`, {
				headers: { authorization: `Bearer ${ENV.METRICS_TOKEN}` }
			})
		).text();
		for (const channel of ['ntfy', 'apprise', 'discord', 'webhook'])
			expect(metrics).toContain(
				`librariarr_alert_deliveries_total{channel="${channel}",outcome="sent"} 1`
			);

		// The same browser again (it now holds a known-device cookie): no alert.
		await signInFrom('198.51.100.7', b);
		await new Promise((r) => setTimeout(r, 800));
		expect(ntfy.received).toHaveLength(1);
	});

	test('a forged signature is refused by the receiver: the check can fail', async () => {
		await clearChannels();
		const hook = await receiver('webhook', { secret: 'another-secret-entirely-0000' });
		await addChannel('webhook', { url: `${hook.url}/hook`, secret: WEBHOOK_SECRET });
		await signInFrom('198.51.100.8');
		await waitFor(() => hook.received.length >= 1);
		expect(hook.received[0].signatureOk).toBe(false);
	});

	test('a redirect is not followed, to another scheme or anywhere', async () => {
		await clearChannels();
		await db.sql`update "AlertSettings" set events = '{}'`; // only the tests are sent
		const target = await receiver('discord');
		for (const location of ['file:///etc/passwd', `${target.url}/elsewhere`]) {
			const redirecting = await receiver('discord', { redirectTo: location });
			await db.sql`delete from "AlertChannel"`;
			const id = await addChannel('discord', { url: `${redirecting.url}/api/webhooks/1/t` });
			const b = browser(app.url);
			await b.signIn();
			const res = await b.post('/settings/notifications?/test', { channel: String(id) });
			expect(await res.text()).toContain('Test not delivered');
			expect(redirecting.received).toHaveLength(1);
		}
		expect(target.received).toHaveLength(0);
	});

	test('a slow receiver: the sign-in answers before the receiver does', async () => {
		await clearChannels();
		const slow = await receiver('webhook', { secret: WEBHOOK_SECRET, delayMs: 1000 });
		await addChannel('webhook', { url: `${slow.url}/hook`, secret: WEBHOOK_SECRET });
		const started = Date.now();
		await signInFrom('198.51.100.9');
		const signedInAt = Date.now();
		const got = await waitFor(() => (slow.received[0]?.answeredAt ? slow.received[0] : null));
		expect(signedInAt).toBeLessThan(got.answeredAt!);
		expect(signedInAt - started).toBeLessThan(1000);
		expect(got.signatureOk).toBe(true);
	});

	test('a receiver that is down: the sign-in is not slowed; retried with backoff, then failed and visible', async () => {
		await clearChannels();
		const gone = await receiver('ntfy');
		const url = gone.url;
		await gone.stop();
		const id = await addChannel('ntfy', { server: url, topic: 'down', token: null });
		const started = Date.now();
		await signInFrom('198.51.100.10');
		expect(Date.now() - started).toBeLessThan(1000);
		// 6 tries: 300 ms, then 0.6, 1.2, 2.4, 4.8 s apart.
		const [row] = await waitFor(async () => {
			const rows = await db.sql`
				select * from "AlertOutbox" where "channelId" = ${id} and status = 'failed'`;
			return rows.length ? rows : null;
		}, 20_000);
		expect(row.attempts).toBe(6);
		expect(row.lastError).toContain('failed');
		const [channel] = await db.sql`select * from "AlertChannel" where id = ${id}`;
		expect(channel.lastOutcome).toBe('failed');
	}, 30_000);

	test('a receiver that fails at first gets the message on a later try, repeats collapsed into it', async () => {
		await clearChannels();
		const flaky = await receiver('webhook', { secret: WEBHOOK_SECRET, failFirst: 1 });
		await addChannel('webhook', { url: `${flaky.url}/hook`, secret: WEBHOOK_SECRET });
		// Throttle refusals wait ALERT_HOLD_MS for their repeats: the refused attempts are one message.
		const b = browser(app.url);
		const answers: number[] = [];
		while (answers.length < 14 && answers.filter((s) => s === 429).length < 3) {
			const res = await b.post(
				'/login',
				{ username: 'second', password: 'wrong' },
				{ headers: { 'x-forwarded-for': '203.0.113.50' } }
			);
			answers.push(res.status);
		}
		expect(answers.filter((s) => s === 429)).toHaveLength(3);
		await waitFor(() => flaky.received.some((r) => r.answeredAt && r.signatureOk), 15_000);
		const throttled = flaky.received
			.map((r) => JSON.parse(r.body))
			.filter((m) => m.kind === 'throttled');
		expect(throttled.length).toBe(2); // the failed try and the one that got through
		expect(throttled[1].count).toBe(3);
		expect(throttled[1].address).toBe('203.0.113.50');
		expect(throttled[1].account).toBe('second');
		expect(throttled[1].text).toContain('Happened 3 times');
	});

	test('a recovery-code sign-in, and a change of how anyone can sign in (audited), each send theirs', async () => {
		await clearChannels();
		const hook = await receiver('webhook', { secret: WEBHOOK_SECRET });
		await addChannel('webhook', { url: `${hook.url}/hook`, secret: WEBHOOK_SECRET });
		const [{ id: userId }] = await db.sql`select id from "User" where "localUsername" = 'admin'`;
		const code = newRecoveryCode();
		const hmac = derivedKey('recovery-codes', loadKey({ SECRET_KEY }));
		await db.sql`
			insert into "RecoveryCode" ("userId", "codeHash")
			values (${userId}, ${hashRecoveryCode(normaliseRecoveryCode(code)!, hmac)})`;
		const b = browser(app.url);
		const res = await b.post(
			'/login/recovery',
			{ username: 'admin', code },
			{ headers: { 'x-forwarded-for': '198.51.100.30' } }
		);
		expect(res.status).toBe(303);
		const recovery = await waitFor(() =>
			hook.received.map((r) => JSON.parse(r.body)).find((m) => m.kind === 'recovery_code')
		);
		expect(recovery).toMatchObject({ address: '198.51.100.30', account: 'Ada Admin' });
		expect(recovery.text).toContain('From a browser not known to the account.');
		// One message for the sign-in, not a second for the new browser.
		expect(hook.received.filter((r) => JSON.parse(r.body).kind === 'new_browser')).toHaveLength(0);

		// New recovery codes (a fresh password sign-in is the step-up) are a sign-in change.
		const admin = await signInFrom('198.51.100.31');
		const made = await admin.post(
			'/settings/security?/recoveryCodes',
			{},
			{ headers: { 'x-forwarded-for': '198.51.100.31' } }
		);
		expect(made.status).toBe(200);
		const change = await waitFor(() =>
			hook.received.map((r) => JSON.parse(r.body)).find((m) => m.kind === 'sign_in_change')
		);
		expect(change).toMatchObject({ event: 'recovery_codes.created', address: '198.51.100.31' });
		await db.sql`delete from "RecoveryCode"`;
	});

	test('housekeeping prunes finished alerts: a day for sent, a week for failed, 200 at most', async () => {
		await clearChannels();
		const id = await addChannel('ntfy', { server: 'http://127.0.0.1:9', topic: 't', token: null });
		await db.sql`
			insert into "AlertOutbox" ("channelId", kind, event, "collapseKey", status, "doneAt")
			select ${id}, 'new_browser', 'login.succeeded', 'k' || n, s.status, s.at
			from generate_series(1, 3) n, (values
				('sent', now() - interval '2 days'), ('sent', now() - interval '1 hour'),
				('failed', now() - interval '8 days'), ('failed', now() - interval '2 days')
			) s(status, at)`;
		await db.sql`
			insert into "AlertOutbox" ("channelId", kind, event, "collapseKey", status, "doneAt")
			select ${id}, 'new_browser', 'login.succeeded', 'r' || n, 'sent', now()
			from generate_series(1, 250) n`;
		const other = await startServer({ databaseUrl: db.url, env: ENV });
		try {
			await waitFor(async () => (await other.logs()).includes('Housekeeping purged'), 15_000);
		} finally {
			await other.stop();
		}
		const rows = await db.sql`select "collapseKey", status from "AlertOutbox" order by id`;
		expect(rows).toHaveLength(200);
		expect(rows.every((r) => r.collapseKey.startsWith('r'))).toBe(true);
		await db.sql`delete from "AlertOutbox"`;
	});

	test('a queued alert wakes the sender at once (the table notifies), without waiting for a poll', async () => {
		const own = await freshDatabase();
		await insertAdmin(own.sql);
		const hook = await receiver('webhook', { secret: WEBHOOK_SECRET });
		const sealed = seal(
			JSON.stringify({ kind: 'webhook', url: `${hook.url}/hook`, secret: WEBHOOK_SECRET }),
			loadKey({ SECRET_KEY })
		);
		await own.sql`insert into "AlertChannel" (kind, name, settings, summary)
			values ('webhook', 'w', ${sealed}, 'w')`;
		const slowPoll = await startApp({ ...ENV, ALERT_POLL_MS: '600000' }, own);
		try {
			await new Promise((r) => setTimeout(r, 300)); // the poll at start has run
			const res = await browser(slowPoll.url).signIn();
			expect(res.status).toBe(303);
			await waitFor(() => hook.received.length === 1, 3000);
		} finally {
			await slowPoll.stop();
		}
	});

	test('a kind switched off sends nothing', async () => {
		await clearChannels();
		const ntfy = await receiver('ntfy');
		await addChannel('ntfy', { server: ntfy.url, topic: 't', token: null });
		await db.sql`update "AlertSettings" set events = '{recovery_code}'`;
		await signInFrom('198.51.100.11');
		await new Promise((r) => setTimeout(r, 800));
		expect(ntfy.received).toHaveLength(0);
		expect(await db.sql`select 1 from "AlertOutbox" where status = 'pending'`).toHaveLength(0);
	});

	test('bounded: at most 500 waiting; beyond that new events are dropped, not queued', async () => {
		await clearChannels();
		const gone = await receiver('ntfy');
		await gone.stop();
		const id = await addChannel('ntfy', { server: gone.url, topic: 'full', token: null });
		await db.sql`
			insert into "AlertOutbox" ("channelId", kind, event, "collapseKey", "nextAttemptAt")
			select ${id}, 'new_browser', 'login.succeeded', 'filler:' || n, now() + interval '1 hour'
			from generate_series(1, 500) n`;
		await signInFrom('198.51.100.12');
		const [{ n }] = await db.sql`
			select count(*)::int as n from "AlertOutbox" where status in ('pending', 'sending')`;
		expect(n).toBe(500);
		await db.sql`delete from "AlertOutbox"`;
	});

	test('two instances on one database: each message is sent once', async () => {
		await clearChannels();
		const hook = await receiver('webhook', { secret: WEBHOOK_SECRET });
		await addChannel('webhook', { url: `${hook.url}/hook`, secret: WEBHOOK_SECRET });
		// Its own client: stopping it ends that client, not the one the other tests share.
		const other = await startApp(ENV, { ...db, sql: postgres(db.url, { max: 1 }) });
		try {
			for (let i = 0; i < 6; i++) {
				const url = i % 2 ? other.url : app.url;
				const res = await browser(url).post(
					'/login',
					{ username: 'admin', password: 'correct horse battery' },
					{ headers: { 'x-forwarded-for': `198.51.100.${20 + i}` } }
				);
				expect(res.status).toBe(303);
			}
			await waitFor(async () => {
				const rows = await db.sql`select 1 from "AlertOutbox" where status <> 'sent'`;
				return rows.length === 0;
			});
			const counts = hook.received.map((r) => JSON.parse(r.body).count as number);
			expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
			const [{ rows }] = await db.sql`select count(*)::int as rows from "AlertOutbox"
				where "collapseKey" like '%:new_browser:%' and status = 'sent'`;
			expect(hook.received).toHaveLength(rows);
		} finally {
			await other.stop();
		}
	});
});

describe('Settings → Notifications', () => {
	async function signedIn() {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		return b;
	}

	test('adding a channel: refusals beside their fields, nothing stored; then stored sealed', async () => {
		await clearChannels();
		const b = await signedIn();
		for (const [form, field] of [
			[{ kind: 'ntfy', url: 'javascript:alert(1)', topic: 't' }, 'must start with http'],
			[{ kind: 'ntfy', url: 'ftp://192.168.1.2/', topic: 't' }, 'must start with http'],
			[{ kind: 'discord', url: 'https://user:pw@example.com/x' }, 'user name or password'],
			[{ kind: 'ntfy', url: 'http://192.168.1.2', topic: '../admin' }, 'The topic is'],
			[{ kind: 'webhook', url: 'http://192.168.1.2/h', secret: 'short' }, 'signing secret'],
			[{ kind: 'carrier-pigeon', url: 'http://x' }, 'Choose a kind'],
			[{ kind: 'apprise', url: 'x'.repeat(5000) }, 'longer than']
		] as const) {
			const res = await b.post('/settings/notifications?/add', { ...form });
			expect(res.status, JSON.stringify(form)).toBe(400);
			expect(await res.text()).toContain(field);
		}
		expect(await db.sql`select 1 from "AlertChannel"`).toHaveLength(0);

		const ntfy = await receiver('ntfy');
		const res = await b.post('/settings/notifications?/add', {
			kind: 'ntfy',
			name: 'Phone',
			url: ntfy.url,
			topic: 'secret-topic-name',
			token: 'tk_secret_token'
		});
		expect(res.status).toBe(200);
		const [row] = await db.sql`select * from "AlertChannel"`;
		expect(row.settings).not.toContain('secret-topic-name');
		expect(row.settings).not.toContain('tk_secret_token');
		const page = await (await b.get('/settings/notifications')).text();
		expect(page).toContain('Phone');
		expect(page).not.toContain('secret-topic-name');
		expect(page).not.toContain('tk_secret_token');

		// Send test: the answer the receiver gave is on the page.
		const tested = await b.post('/settings/notifications?/test', { channel: String(row.id) });
		expect(tested.status).toBe(200);
		expect(await tested.text()).toContain('Test sent. The answer: HTTP 200');
		expect(ntfy.received.at(-1)!.headers.authorization).toBe('Bearer tk_secret_token');
		expect(ntfy.received.at(-1)!.path).toBe('/secret-topic-name');

		// Hostile ids: a clear 404, nothing changed.
		for (const channel of ['', 'abc', '-1', '99999999999999', '999'])
			for (const action of ['test', 'remove'])
				expect((await b.post(`/settings/notifications?/${action}`, { channel })).status).toBe(404);
		expect(await db.sql`select 1 from "AlertChannel"`).toHaveLength(1);
	});

	test('a test to a receiver that is down shows why; failures are listed; at most 10 channels', async () => {
		await clearChannels();
		const b = await signedIn();
		const gone = await receiver('apprise');
		await gone.stop();
		await b.post('/settings/notifications?/add', { kind: 'apprise', url: `${gone.url}/notify/k` });
		const [row] = await db.sql`select id from "AlertChannel"`;
		const res = await b.post('/settings/notifications?/test', { channel: String(row.id) });
		const text = await res.text();
		expect(text).toContain('Test not delivered');
		expect(text).toContain('ECONNREFUSED');

		await db.sql`
			insert into "AlertOutbox" ("channelId", kind, event, "collapseKey", status, attempts,
				"lastError", "doneAt")
			values (${row.id}, 'new_browser', 'login.succeeded', 'x', 'failed', 6, 'HTTP 500: boom', now())`;
		const page = await (await b.get('/settings/notifications')).text();
		expect(page).toContain('HTTP 500: boom');

		for (let i = 0; i < 12; i++)
			await b.post('/settings/notifications?/add', { kind: 'discord', url: 'http://10.0.0.1/w' });
		expect(await db.sql`select 1 from "AlertChannel"`).toHaveLength(10);
		const refused = await b.post('/settings/notifications?/add', {
			kind: 'discord',
			url: 'http://10.0.0.1/w'
		});
		expect(refused.status).toBe(409);
	});

	test('events on and off; unknown values ignored; signed out, nothing', async () => {
		const b = await signedIn();
		const res = await b.post('/settings/notifications?/events', {
			events: 'restore'
		});
		expect(res.status).toBe(200);
		const body = new URLSearchParams([
			['events', 'api_key'],
			['events', 'throttled'],
			['events', 'nonsense']
		]);
		await fetch(`${app.url}/settings/notifications?/events`, {
			method: 'POST',
			body,
			headers: {
				origin: app.url,
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded',
				cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ')
			}
		});
		const [row] = await db.sql`select events from "AlertSettings"`;
		expect(row.events).toEqual(['throttled', 'api_key']);

		const stranger = browser(app.url);
		const refused = await stranger.post('/settings/notifications?/events', { events: 'restore' });
		expect([303, 401, 403]).toContain(refused.status);
		const [after] = await db.sql`select events from "AlertSettings"`;
		expect(after.events).toEqual(['throttled', 'api_key']);
	});
});
