// For the rest of the home lab: /metrics for Prometheus (off unless METRICS_TOKEN is set, then
// only with the token as a bearer), and the one log line per failed sign-in that fail2ban reads,
// checked by Debian's own fail2ban-regex with the filter the project ships (docs/fail2ban/).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, freshDatabase, insertAdmin, startApp, type App } from '../helpers/app';

const TOKEN = 'metrics-token-0123456789abcdef';
let app: App;

beforeAll(async () => {
	const db = await freshDatabase();
	await insertAdmin(db.sql);
	await insertAdmin(db.sql, { username: 'second', displayName: 'Second' });
	app = await startApp(
		{ METRICS_TOKEN: TOKEN, TRUSTED_PROXIES: '127.0.0.1/32', LOG_LEVEL: 'info' },
		db
	);
});
afterAll(async () => {
	await app?.stop();
});

const scrape = (authorization?: string) =>
	fetch(`${app.url}/metrics`, { headers: authorization ? { authorization } : {} });

/** One sample's value from the exposition text, 0 when the series is absent. */
function sample(text: string, name: string, labels = '') {
	const line = text
		.split('\n')
		.find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
	return line ? Number(line.split(' ').at(-1)) : 0;
}

/** A sign-in from an address the proxy names. */
const from = (ip: string, username = 'admin') => {
	const b = browser(app.url);
	return {
		signIn: (password: string) =>
			b.post('/login', { username, password }, { headers: { 'x-forwarded-for': ip } })
	};
};

describe('/metrics', () => {
	test('without the token, or with a wrong one, nothing is shown (401, and a 404 when off)', async () => {
		for (const authorization of [
			undefined,
			'Bearer wrong-token-0123456789abcdef',
			`Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
			`Bearer ${TOKEN}x`,
			`Bearer ${TOKEN.slice(0, -1)}`,
			`Bearer ${'a'.repeat(5000)}`
		]) {
			const res = await scrape(authorization);
			expect(res.status, authorization).toBe(401);
			expect(res.headers.get('www-authenticate')).toContain('Bearer');
			expect(await res.text()).not.toContain('librariarr_');
		}
		const off = await startApp({});
		try {
			const res = await fetch(`${off.url}/metrics`, {
				headers: { authorization: `Bearer ${TOKEN}` }
			});
			expect(res.status).toBe(404);
		} finally {
			await off.stop();
		}
	});

	test('sign-ins by method and outcome, throttle refusals, sessions; no username or address in it', async () => {
		const before = await (await scrape(`Bearer ${TOKEN}`)).text();
		expect((await from('198.51.100.20').signIn('correct horse battery')).status).toBe(303);
		expect((await from('198.51.100.21').signIn('wrong one')).status).toBe(400);
		// Wrong passwords from one address until the throttle refuses (README: 10 per account and
		// address in 15 minutes).
		const noisy = from('198.51.100.22');
		const answers: number[] = [];
		while (answers.length < 15 && answers.at(-1) !== 429)
			answers.push((await noisy.signIn(`wrong ${answers.length}`)).status);
		expect(answers.at(-1)).toBe(429);
		const wrong = answers.filter((s) => s === 400).length;
		expect(wrong).toBeGreaterThan(0);

		const res = await scrape(`bearer   ${TOKEN}`);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toContain('text/plain');
		const text = await res.text();
		const delta = (name: string, labels: string) =>
			sample(text, name, labels) - sample(before, name, labels);
		expect(delta('librariarr_sign_ins_total', 'method="local",outcome="succeeded"')).toBe(1);
		expect(delta('librariarr_sign_ins_total', 'method="local",outcome="failed"')).toBe(1 + wrong);
		expect(delta('librariarr_sign_ins_total', 'method="local",outcome="throttled"')).toBe(1);
		expect(delta('librariarr_throttle_refusals_total', 'kind="sign_in"')).toBe(1);
		const [{ n }] = await app.sql<{ n: number }[]>`
			select count(*)::int as n from "Session" where "expiresAt" > now()`;
		expect(sample(text, 'librariarr_active_sessions')).toBe(n);
		expect(n).toBeGreaterThan(0);
		expect(sample(text, 'librariarr_database_up')).toBe(1);
		expect(text).toContain('librariarr_process_resident_memory_bytes');
		expect(text).not.toMatch(/admin|198\.51\.100|127\.0\.0\.1/);
		// Every label value comes from a fixed list.
		const values = [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1]);
		for (const value of values) expect(value).toMatch(/^[a-z0-9_.\-+/ ]{0,40}$/i);
	});
});

describe('fail2ban', () => {
	const filter = path.resolve('docs/fail2ban/filter.d/librariarr.conf');
	const haveFail2ban = spawnSync('fail2ban-regex', ['--version']).status === 0;

	// fail2ban-regex comes with Debian's fail2ban package, which .ci/run installs.
	test.runIf(haveFail2ban || process.env.CI)(
		"the shipped filter finds every failed sign-in's client address, and nothing else",
		async () => {
			const ips = ['203.0.113.7', '2001:db8::5', '203.0.113.8'];
			const started = app.logs().split('\n').length;
			for (const ip of ips) expect((await from(ip, 'second').signIn('not it')).status).toBe(400);
			const right = await from('203.0.113.9', 'second').signIn('correct horse battery');
			expect(right.status).toBe(303);
			// An unknown username: its audit row keeps only the address prefix, the line the address.
			const stranger = await browser(app.url).post(
				'/login',
				{ username: 'nobody', password: 'x' },
				{ headers: { 'x-forwarded-for': '2001:db8:1:2::77' } }
			);
			expect(stranger.status).toBe(400);
			const lines = app.logs().split('\n').slice(started);
			const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-f2b-'));
			try {
				// As Docker's json-file driver keeps them, and as plain lines (journald, a file).
				const plain = path.join(dir, 'plain.log');
				fs.writeFileSync(plain, `${lines.join('\n')}\n`);
				const docker = path.join(dir, 'docker.log');
				fs.writeFileSync(
					docker,
					lines
						.map((l) =>
							JSON.stringify({ log: `${l}\n`, stream: 'stderr', time: new Date().toISOString() })
						)
						.join('\n') + '\n'
				);
				for (const log of [plain, docker]) {
					const out = execFileSync('fail2ban-regex', ['-o', 'ip', log, filter], {
						encoding: 'utf8'
					});
					expect(out.trim().split('\n'), log).toEqual([...ips, '2001:db8:1:2::77']);
				}
			} finally {
				fs.rmSync(dir, { recursive: true, force: true });
			}
		}
	);
});
