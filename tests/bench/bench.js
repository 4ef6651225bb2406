#!/usr/bin/env node
// `npm run bench`: the cost of a signed-in request against a signed-out one, on the built server
// and a real PostgreSQL. Reports requests/s and p99 latency for
//   (a) the signed-in home page   (session resolved from the cookie: one query), and
//   (b) the signed-out login page (the baseline),
//   (c) GET /api/v1/system/status with an API key (one query; writes per keyed request, target 0),
// their ratio (target ≥ 0.85), and the database writes per signed-in request (target 0): rows
// inserted, updated or deleted in the app's own tables (pg_stat_user_tables), read after the
// server has exited (a backend flushes its counters on exit). Not pg_stat_database's totals: they
// also count the system catalogs, where autovacuum's ANALYZE writes its statistics (pg_statistic)
// a minute after the sign-ins below filled "Session" and "AuditEvent"; that was the 36 "writes"
// the forward-auth run used to report in a throwaway cluster, none of them the app's.
// Also, in the same run: a local sign-in's median and p99, with the right password and with a
// wrong one (from fresh addresses, the throttle emptied before each), against a bare argon2 verify of the same
// hash (target: at most 1.6 times it) and against one signed-in page asked the same way (one at a
// time, node:http on a kept-alive connection), the start-up time of `node build` (to /healthz answering),
// the server's resident memory idle and under load, the rows written per anonymous sign-in
// start (OIDC start, passkey options; target 0: a sign-in in progress lives in the browser), and
// the rows anonymous refusals add to the audit trail (callbacks nobody started, forward auth
// without a user header): at most one per kind, address and 15-minute window, however many
// requests (target ≤ 1 per kind and window). And, with the app reaching PostgreSQL through a
// fault-injecting relay: how long a signed-in request takes to get the 503 page while the
// database is frozen, and how long after it thaws until the home page is served again
// (target: both ≤ 5 s).
import { hash, verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import fs from 'node:fs';
import http from 'node:http';
import postgres from 'postgres';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startIdp } from '../helpers/idp.js';
import { createTestDatabase, startTestPostgres } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

/** @param {string} url @param {Record<string, string>} headers @returns {Promise<autocannon.Result>} */
function load(url, headers) {
	return new Promise((resolve, reject) => {
		autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers }, (err, result) =>
			err ? reject(err) : resolve(result)
		);
	});
}

/** @param {number} n */
const round = (n) => Math.round(n * 100) / 100;
const SIGN_INS = Number(process.env.BENCH_SIGN_INS ?? 200);
const ANONYMOUS_STARTS = Number(process.env.BENCH_ANONYMOUS_STARTS ?? 500);

/** @param {number[]} values @param {number} p */
function percentile(values, p) {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** @param {() => Promise<unknown>} fn @param {number} n */
async function timeEach(fn, n) {
	/** @type {number[]} */
	const ms = [];
	for (let i = 0; i < n; i++) {
		const started = performance.now();
		await fn();
		ms.push(performance.now() - started);
	}
	return { median: percentile(ms, 50), p99: percentile(ms, 99) };
}

// The one-at-a-time timings (sign-ins, and one signed-in page to compare them with) go through
// node:http on a kept-alive connection: fetch() adds about 2 ms of its own to every request on
// these machines, which is the client's cost, not the server's.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/**
 * One request, its body read to the end.
 * @param {string} url @param {{ method?: string, headers?: Record<string, string>, body?: string }} [init]
 * @returns {Promise<{ status: number, setCookie: string[] }>}
 */
function request(url, init = {}) {
	return new Promise((resolve, reject) => {
		const req = http.request(
			url,
			{ method: init.method ?? 'GET', headers: init.headers, agent },
			(res) => {
				res.resume();
				res.on('end', () =>
					resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [] })
				);
				res.on('error', reject);
			}
		);
		req.on('error', reject);
		req.end(init.body);
	});
}

/** Resident memory of a process in MB, from /proc. @param {number} pid */
function rssMb(pid) {
	const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
	return Math.round(kb / 102.4) / 10;
}

/** Runs `work` while sampling the process's RSS every 100 ms; returns the peak. */
async function peakRssDuring(/** @type {number} */ pid, /** @type {Promise<unknown>} */ work) {
	let peak = rssMb(pid);
	const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
	try {
		await work;
	} finally {
		clearInterval(timer);
	}
	return peak;
}

/** Rows in "AuditEvent". @param {string} url */
async function auditRows(url) {
	const sql = postgres(url, { max: 1, onnotice: () => {} });
	const [row] = await sql`select count(*)::int as n from "AuditEvent"`;
	await sql.end();
	return Number(row.n);
}

/** The 15-minute windows of the refusal counters that [from, to] touches. */
const windowsBetween = (/** @type {number} */ from, /** @type {number} */ to) =>
	Math.floor(to / 900_000) - Math.floor(from / 900_000) + 1;

/** Rows the app's statements changed in its own tables so far. @param {string} url */
async function writes(url) {
	const sql = postgres(url, { max: 1, onnotice: () => {} });
	const [row] = await sql`
		select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint as n
		from pg_stat_user_tables
	`;
	await sql.end();
	return Number(row.n);
}

const pg = await startTestPostgres();
try {
	const db = await createTestDatabase(pg);
	const sql = postgres(db.url, { max: 1, onnotice: () => {} });
	const passwordHash = await hash('bench password 1', {
		memoryCost: 19456,
		timeCost: 2,
		parallelism: 1
	});
	await sql`
		insert into "User" (username, "localUsername", "passwordHash", "ssoProvider", "ssoIssuer", "ssoSubject")
		values ('Bench', 'bench', ${passwordHash}, 'forward-auth', 'forward-auth', 'bench-user')
	`;
	await sql.end();
	const env = { LOG_LEVEL: 'warn', TRUSTED_PROXIES: '127.0.0.1/32' };

	// Sign in once, then stop, so every write so far is counted before the measured run.
	let started = performance.now();
	let server = await startServer({ databaseUrl: db.url, env });
	const coldStartMs = performance.now() - started;
	const signInOnce = () =>
		request(`${server.url}/login`, {
			method: 'POST',
			headers: {
				origin: server.url,
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: String(new URLSearchParams({ username: 'bench', password: 'bench password 1' }))
		});
	const res = await signInOnce();
	const cookie = res.setCookie.find((c) => c.startsWith('librariarr_session='))?.split(';')[0];
	if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status}`);
	await timeEach(signInOnce, 20); // warm-up
	const signIn = await timeEach(async () => {
		const r = await signInOnce();
		if (r.status !== 303) throw new Error(`sign-in answered ${r.status}`);
	}, SIGN_INS);
	const argon = await timeEach(() => verify(passwordHash, 'bench password 1'), SIGN_INS);
	// A wrong password, from a new address each time (the proxy names it): it is checked as
	// fully as a right one, so it should cost the same. The throttle would refuse after a few
	// from one address or for one account, so its rows go before each attempt, untimed.
	const wrongSql = postgres(db.url, { max: 1, onnotice: () => {} });
	let wrongAttempt = 0;
	const wrongOnce = async () => {
		await wrongSql`delete from "Throttle"`;
		wrongAttempt++;
		const t = performance.now();
		const r = await request(`${server.url}/login`, {
			method: 'POST',
			headers: {
				origin: server.url,
				accept: 'text/html',
				'content-type': 'application/x-www-form-urlencoded',
				'x-forwarded-for': `198.51.${(wrongAttempt >> 8) & 255}.${wrongAttempt & 255}`
			},
			body: String(new URLSearchParams({ username: 'bench', password: 'not the password' }))
		});
		if (r.status !== 400) throw new Error(`a wrong password answered ${r.status}`);
		return performance.now() - t;
	};
	for (let i = 0; i < 20; i++) await wrongOnce(); // warm-up
	/** @type {number[]} */
	const wrongTimes = [];
	for (let i = 0; i < SIGN_INS; i++) wrongTimes.push(await wrongOnce());
	const wrongSignIn = { median: percentile(wrongTimes, 50), p99: percentile(wrongTimes, 99) };
	// What the issue measures a sign-in's extra cost against: one signed-in page, asked the same way.
	const pageOnce = async () => {
		const r = await request(`${server.url}/`, { headers: { cookie: cookie ?? '' } });
		if (r.status !== 200) throw new Error(`signed-in home page answered ${r.status}`);
	};
	await timeEach(pageOnce, 20); // warm-up
	const pageAlone = await timeEach(pageOnce, SIGN_INS);
	agent.destroy();
	await wrongSql.end();
	await server.stop();
	await new Promise((r) => setTimeout(r, 500));
	const before = await writes(db.url);

	started = performance.now();
	server = await startServer({ databaseUrl: db.url, env });
	const startMs = performance.now() - started;
	await new Promise((r) => setTimeout(r, 1000));
	const idleRss = rssMb(server.pid);
	const check = await fetch(`${server.url}/`, { headers: { cookie }, redirect: 'manual' });
	if (check.status !== 200) throw new Error(`signed-in home page answered ${check.status}`);
	await load(`${server.url}/`, { cookie }); // warm-up
	/** @type {autocannon.Result | undefined} */
	let measured;
	const loadRss = await peakRssDuring(
		server.pid,
		load(`${server.url}/`, { cookie }).then((r) => (measured = r))
	);
	const signedIn = /** @type {autocannon.Result} */ (measured);
	await server.stop();
	await new Promise((r) => setTimeout(r, 500));
	const after = await writes(db.url);

	server = await startServer({ databaseUrl: db.url, env });
	await load(`${server.url}/login`, {}); // warm-up
	const signedOut = await load(`${server.url}/login`, {});
	await server.stop();

	// An API key (issue 28): made on Settings → Security with the session above, used once (its
	// first use writes "lastUsedAt" and the address), then measured on a restarted server.
	server = await startServer({ databaseUrl: db.url, env });
	const madeKey = await fetch(`${server.url}/settings/security?/apiKeyCreate`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			cookie,
			origin: server.url,
			accept: 'text/html',
			'content-type': 'application/x-www-form-urlencoded'
		},
		body: new URLSearchParams({
			name: 'bench',
			scope: 'read',
			expiry: '0',
			currentPassword: 'bench password 1'
		})
	});
	const apiKey = /lbr_[A-Za-z0-9_-]{43}/.exec(await madeKey.text())?.[0];
	if (!apiKey) throw new Error(`making an API key failed: ${madeKey.status}`);
	const statusUrl = `${server.url}/api/v1/system/status`;
	const firstUse = await fetch(statusUrl, { headers: { 'x-api-key': apiKey } });
	if (firstUse.status !== 200) throw new Error(`keyed status answered ${firstUse.status}`);
	await server.stop();
	await new Promise((r) => setTimeout(r, 500));
	const keyBefore = await writes(db.url);
	server = await startServer({ databaseUrl: db.url, env });
	await load(`${server.url}/api/v1/system/status`, { 'x-api-key': apiKey }); // warm-up
	const keyed = await load(`${server.url}/api/v1/system/status`, { 'x-api-key': apiKey });
	await server.stop();
	await new Promise((r) => setTimeout(r, 500));
	const keyAfter = await writes(db.url);
	const keyedRequests = keyed.requests.total * 2;

	// Forward auth: switch the mode on, sign in through the "proxy" (this script), then measure.
	const admin = postgres(db.url, { max: 1, onnotice: () => {} });
	await admin`update "AppSettings" set "ssoMode" = 'FORWARD_AUTH', "ssoEnabled" = true`;
	await admin.end();
	server = await startServer({ databaseUrl: db.url, env });
	const fwd = await fetch(`${server.url}/api/auth/sso/forward`, {
		redirect: 'manual',
		headers: { 'remote-user': 'bench-user' }
	});
	const fwdCookie = fwd.headers
		.getSetCookie()
		.find((c) => c.startsWith('librariarr_session='))
		?.split(';')[0];
	if (fwd.status !== 303 || !fwdCookie)
		throw new Error(`forward-auth sign-in failed: ${fwd.status}`);
	await server.stop();
	await new Promise((r) => setTimeout(r, 500));
	const fwdBefore = await writes(db.url);
	server = await startServer({ databaseUrl: db.url, env });
	const fwdHeaders = { cookie: fwdCookie, 'remote-user': 'bench-user' };
	const fwdCheck = await fetch(`${server.url}/`, { headers: fwdHeaders, redirect: 'manual' });
	if (fwdCheck.status !== 200)
		throw new Error(`forward-auth home page answered ${fwdCheck.status}`);
	await load(`${server.url}/`, fwdHeaders); // warm-up
	const forward = await load(`${server.url}/`, fwdHeaders);
	await server.stop();
	await new Promise((r) => setTimeout(r, 500));
	const fwdAfter = await writes(db.url);
	const fwdRequests = forward.requests.total * 2;

	// Anonymous refusals (forward-auth mode is still on): each kind hammered from one address.
	const REFUSALS = [
		'/api/auth/sso/oidc/callback?state=never-started&code=x',
		'/api/auth/plex/callback?tx=never-started',
		'/api/auth/sso/forward'
	];
	server = await startServer({ databaseUrl: db.url, env });
	const rowsBefore = await auditRows(db.url);
	const refusalsFrom = Date.now();
	let refusalRequests = 0;
	for (const path of REFUSALS) {
		const result = await new Promise((resolve, reject) =>
			autocannon(
				{ url: `${server.url}${path}`, connections: CONNECTIONS, duration: Math.min(DURATION, 5) },
				(err, r) => (err ? reject(err) : resolve(r))
			)
		);
		refusalRequests += /** @type {autocannon.Result} */ (result).requests.total;
	}
	const refusalWindows = windowsBetween(refusalsFrom, Date.now());
	const refusalRows = (await auditRows(db.url)) - rowsBefore;
	await server.stop();

	// Anonymous sign-in starts: OIDC (against a real provider's discovery) and passkey options,
	// from many client addresses (this script is the trusted proxy). Goal: no row at all.
	const idp = await startIdp({ redirectUris: ['http://127.0.0.1/api/auth/sso/oidc/callback'] });
	const starts = { oidc: 0, passkey: 0 };
	let startsBefore = 0;
	let startsAfter = 0;
	try {
		const setup = postgres(db.url, { max: 1, onnotice: () => {} });
		await setup`
			update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${idp.issuer},
				"oidcClientId" = 'librariarr', "ssoEnabled" = true, "passkeyLoginEnabled" = true
		`;
		await setup`
			insert into "Passkey" ("userId", "credentialId", "publicKey", "rpId", name)
			select id, 'bench-credential', '\\x00', '127.0.0.1', 'Bench' from "User" limit 1
		`;
		await setup.end();
		await new Promise((r) => setTimeout(r, 500));
		startsBefore = await writes(db.url);
		server = await startServer({ databaseUrl: db.url, env });
		const base = server.url;
		/** @param {number} i */
		const anonymous = async (i) => {
			const from = { 'x-forwarded-for': `198.51.${Math.floor(i / 250) % 256}.${(i % 250) + 1}` };
			const oidc = await fetch(`${base}/api/auth/sso/oidc/login`, {
				redirect: 'manual',
				headers: from
			});
			await oidc.arrayBuffer();
			if (oidc.status !== 303 || !oidc.headers.get('location')?.startsWith(idp.issuer))
				throw new Error(`OIDC start answered ${oidc.status} ${oidc.headers.get('location')}`);
			starts.oidc++;
			const passkey = await fetch(`${base}/api/auth/passkey/options`, {
				method: 'POST',
				headers: { ...from, origin: base, accept: 'application/json' }
			});
			await passkey.arrayBuffer();
			if (passkey.status !== 200) throw new Error(`passkey options answered ${passkey.status}`);
			starts.passkey++;
		};
		for (let i = 0; i < ANONYMOUS_STARTS; i += CONNECTIONS) {
			await Promise.all(
				Array.from({ length: Math.min(CONNECTIONS, ANONYMOUS_STARTS - i) }, (_, j) =>
					anonymous(i + j)
				)
			);
		}
		await server.stop();
		await new Promise((r) => setTimeout(r, 500));
		startsAfter = await writes(db.url);
	} finally {
		await idp.stop();
	}
	const anonymousStarts = starts.oidc + starts.passkey;

	// A frozen database: the time to the 503 page, then the time to serve again after it thaws.
	const relay = await startFaultProxy(db.url);
	/** @type {{ to503Ms: number, backMs: number, status: number }} */
	let frozen;
	try {
		server = await startServer({ databaseUrl: relay.url, env });
		const home = async () => {
			const r = await fetch(`${server.url}/`, { headers: { cookie }, redirect: 'manual' });
			await r.arrayBuffer();
			return r.status;
		};
		if ((await home()) !== 200) throw new Error('signed-in home page did not answer 200');
		relay.pause();
		let at = performance.now();
		const status = await home();
		const to503Ms = performance.now() - at;
		await new Promise((r) => setTimeout(r, 2000)); // frozen a while longer
		relay.resume();
		at = performance.now();
		while ((await home()) !== 200) {
			if (performance.now() - at > 60_000) throw new Error('not serving 60 s after the thaw');
			await new Promise((r) => setTimeout(r, 20));
		}
		frozen = { to503Ms, backMs: performance.now() - at, status };
		await server.stop();
	} finally {
		await relay.stop();
	}

	const requests = signedIn.requests.total * 2; // warm-up and measured run on the same server
	const report = {
		durationSeconds: DURATION,
		connections: CONNECTIONS,
		signedInHome: {
			requestsPerSecond: signedIn.requests.average,
			p99ms: signedIn.latency.p99,
			non2xx: signedIn.non2xx
		},
		signedOutLogin: {
			requestsPerSecond: signedOut.requests.average,
			p99ms: signedOut.latency.p99,
			non2xx: signedOut.non2xx
		},
		ratio: Number((signedIn.requests.average / signedOut.requests.average).toFixed(3)),
		databaseWrites: after - before,
		writesPerSignedInRequest: (after - before) / requests,
		forwardAuthHome: {
			requestsPerSecond: forward.requests.average,
			p99ms: forward.latency.p99,
			non2xx: forward.non2xx
		},
		apiKeyStatus: {
			requestsPerSecond: keyed.requests.average,
			p99ms: keyed.latency.p99,
			non2xx: keyed.non2xx
		},
		apiKeyDatabaseWrites: keyAfter - keyBefore,
		writesPerKeyedRequest: (keyAfter - keyBefore) / keyedRequests,
		forwardAuthDatabaseWrites: fwdAfter - fwdBefore,
		writesPerForwardAuthRequest: (fwdAfter - fwdBefore) / fwdRequests,
		anonymousRefusals: {
			kinds: REFUSALS.length,
			requests: refusalRequests,
			rowsAdded: refusalRows,
			rowsPerRequest: refusalRows / refusalRequests,
			rowsPerKindAndWindow: refusalRows / (REFUSALS.length * refusalWindows)
		},
		anonymousStarts: { oidc: starts.oidc, passkeyOptions: starts.passkey },
		anonymousStartWrites: startsAfter - startsBefore,
		rowsWrittenPerAnonymousStart: (startsAfter - startsBefore) / anonymousStarts,
		signIn: { medianMs: round(signIn.median), p99Ms: round(signIn.p99) },
		wrongPasswordSignIn: { medianMs: round(wrongSignIn.median), p99Ms: round(wrongSignIn.p99) },
		argon2Verify: { medianMs: round(argon.median), p99Ms: round(argon.p99) },
		signedInPageAlone: { medianMs: round(pageAlone.median), p99Ms: round(pageAlone.p99) },
		signInOverArgon2: round(signIn.median / argon.median),
		signInOverArgon2P99: round(signIn.p99 / argon.p99),
		coldStartMs: Math.round(coldStartMs),
		startMs: Math.round(startMs),
		rssMb: { idle: idleRss, underLoad: loadRss },
		frozenDatabase: {
			status: frozen.status,
			to503Ms: Math.round(frozen.to503Ms),
			servingAgainMs: Math.round(frozen.backMs)
		}
	};
	console.log(`
Librariarr benchmark (${CONNECTIONS} connections, ${DURATION} s each, PostgreSQL: ${pg.kind})
  signed-in home page   ${report.signedInHome.requestsPerSecond.toFixed(0).padStart(6)} req/s   p99 ${report.signedInHome.p99ms} ms   non-2xx ${report.signedInHome.non2xx}
  signed-out login page ${report.signedOutLogin.requestsPerSecond.toFixed(0).padStart(6)} req/s   p99 ${report.signedOutLogin.p99ms} ms   non-2xx ${report.signedOutLogin.non2xx}
  ratio signed-in / signed-out: ${report.ratio} (target ≥ 0.85)
  database writes during ${requests} signed-in requests: ${report.databaseWrites} (${report.writesPerSignedInRequest} per request; target 0)
  API key, GET /api/v1/system/status ${report.apiKeyStatus.requestsPerSecond.toFixed(0).padStart(6)} req/s   p99 ${report.apiKeyStatus.p99ms} ms   non-2xx ${report.apiKeyStatus.non2xx}
  database writes during ${keyedRequests} keyed requests: ${report.apiKeyDatabaseWrites} (${report.writesPerKeyedRequest} per request; target 0)
  forward-auth home page ${report.forwardAuthHome.requestsPerSecond.toFixed(0).padStart(5)} req/s   p99 ${report.forwardAuthHome.p99ms} ms   non-2xx ${report.forwardAuthHome.non2xx}
  database writes during ${fwdRequests} forward-auth requests: ${report.forwardAuthDatabaseWrites} (${report.writesPerForwardAuthRequest} per request; target 0)
  anonymous refusals (${report.anonymousRefusals.kinds} kinds, ${report.anonymousRefusals.requests} requests): ${report.anonymousRefusals.rowsAdded} audit rows added (${report.anonymousRefusals.rowsPerRequest.toFixed(5)} per request, ${report.anonymousRefusals.rowsPerKindAndWindow} per kind and window; target ≤ 1)
  rows written by ${anonymousStarts} anonymous sign-in starts (${starts.oidc} OIDC starts, ${starts.passkey} passkey options): ${report.anonymousStartWrites} (${report.rowsWrittenPerAnonymousStart} per start; target 0)
  local sign-in (${SIGN_INS}, one at a time)  median ${report.signIn.medianMs} ms   p99 ${report.signIn.p99Ms} ms
  the same, wrong password           median ${report.wrongPasswordSignIn.medianMs} ms   p99 ${report.wrongPasswordSignIn.p99Ms} ms
  what a sign-in adds to argon2 (median): right ${round(report.signIn.medianMs - report.argon2Verify.medianMs)} ms, wrong ${round(report.wrongPasswordSignIn.medianMs - report.argon2Verify.medianMs)} ms; one signed-in page, asked the same way: ${report.signedInPageAlone.medianMs} ms (p99 ${report.signedInPageAlone.p99Ms} ms)
  argon2 verify alone                median ${report.argon2Verify.medianMs} ms   p99 ${report.argon2Verify.p99Ms} ms
  sign-in / argon2 verify (median): ${report.signInOverArgon2} (target ≤ 1.6), at p99: ${report.signInOverArgon2P99}
  start of node build to /healthz answering: ${report.coldStartMs} ms the first time, ${report.startMs} ms on restart
  resident memory: ${report.rssMb.idle} MB idle, ${report.rssMb.underLoad} MB peak under load
  database frozen: the ${report.frozenDatabase.status} page after ${report.frozenDatabase.to503Ms} ms (target ≤ 5000); serving again ${report.frozenDatabase.servingAgainMs} ms after it thaws (target ≤ 5000)
`);
	fs.mkdirSync('test-results', { recursive: true });
	fs.writeFileSync('test-results/bench.json', JSON.stringify(report, null, 2));
	process.exitCode =
		report.ratio >= 0.85 &&
		report.databaseWrites === 0 &&
		report.forwardAuthDatabaseWrites === 0 &&
		report.apiKeyDatabaseWrites === 0 &&
		report.apiKeyStatus.non2xx === 0 &&
		report.anonymousRefusals.rowsPerKindAndWindow <= 1 &&
		report.anonymousStartWrites === 0 &&
		report.signInOverArgon2 <= 1.6 &&
		report.frozenDatabase.status === 503 &&
		report.frozenDatabase.to503Ms <= 5000 &&
		report.frozenDatabase.servingAgainMs <= 5000
			? 0
			: 1;
} finally {
	await pg.stop();
}
