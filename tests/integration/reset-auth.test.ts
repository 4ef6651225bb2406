// scripts/reset-auth.js, run as a real process against a real PostgreSQL: its output, its exit
// codes and what it leaves in the database. Prompts go through a pseudo-terminal (util-linux
// `script`), the way `docker exec -it` gives the script a terminal.
import { verify } from '@node-rs/argon2';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { loadKey, seal } from '../../src/lib/server/crypto';
import { createTestDatabase, freePort } from '../helpers/pg.js';

const REPO = process.cwd();
const SCRIPT = path.join(REPO, 'scripts', 'reset-auth.js');
const ACTIONS = [
	'status',
	'wipe-sso',
	'enable-local',
	'enable-plex',
	'clear-throttles',
	'reset-password',
	'delete-user',
	'disable-2fa'
];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

async function database() {
	const db = await createTestDatabase(inject('pg'));
	const sql = postgres(db.url, { max: 2, onnotice: () => {} });
	cleanups.push(() => sql.end());
	return { url: db.url, sql };
}

function tempDir(prefix: string) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
	return dir;
}

// A process environment without any database or override settings of the test runner itself.
function baseEnv(extra: Record<string, string | undefined> = {}) {
	const env: Record<string, string | undefined> = { ...process.env };
	for (const k of [
		'DATABASE_URL',
		'TEST_DATABASE_URL',
		'SSO_DISABLE_OVERRIDE',
		'CONFIG_DIR',
		'EMBEDDED_PG_PORT'
	])
		delete env[k];
	return { ...env, ...extra } as NodeJS.ProcessEnv;
}

type Result = { code: number | null; stdout: string; stderr: string };

/** Runs the script without a terminal (stdin is an empty pipe). */
function run(
	args: string[],
	{
		url,
		env = {},
		cwd = REPO,
		script = SCRIPT
	}: { url?: string; env?: Record<string, string>; cwd?: string; script?: string } = {}
): Promise<Result> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [script, ...args], {
			cwd,
			env: baseEnv({ ...(url ? { DATABASE_URL: url } : {}), ...env }),
			stdio: ['pipe', 'pipe', 'pipe']
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout, stderr }));
		child.stdin.end();
	});
}

/**
 * Runs the script inside a pseudo-terminal. Each step waits for its prompt text to appear in the
 * output (after the previous step's), then types its answer.
 */
function runTty(
	args: string[],
	url: string,
	steps: { waitFor: string; type: string }[],
	{ cwd = REPO, script = 'scripts/reset-auth.js' } = {}
): Promise<{ code: number | null; output: string }> {
	const command = ['node', script, ...args].join(' ');
	return new Promise((resolve, reject) => {
		const child = spawn('script', ['-qec', command, '/dev/null'], {
			cwd,
			env: baseEnv({ DATABASE_URL: url }),
			stdio: ['pipe', 'pipe', 'pipe']
		});
		let output = '';
		let from = 0;
		let next = 0;
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`timed out; output so far:\n${output}`));
		}, 25_000);
		const advance = () => {
			while (next < steps.length) {
				const at = output.indexOf(steps[next].waitFor, from);
				if (at < 0) return;
				from = at + steps[next].waitFor.length;
				child.stdin.write(steps[next].type);
				next++;
			}
		};
		child.stdout.on('data', (d) => {
			output += d;
			advance();
		});
		child.stderr.on('data', (d) => (output += d));
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({ code, output });
		});
	});
}

const SEALED = seal('the client secret', loadKey({ SECRET_KEY: 'reset-auth-test' }));
const FIXED_HASH =
	'$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3H3w2oWbqpXlm5m1ZpYk8a1aR8n5M4rdC1dW6Yl0w0c';

/** An instance with SSO configured and on, one admin linked to every method, one session. */
async function seed(
	sql: postgres.Sql,
	{ password = true, plex = true, localUsername = 'admin' as string | null } = {}
) {
	await sql`
		update "AppSettings" set "ssoEnabled" = true, "ssoMode" = 'OIDC',
			"oidcIssuer" = 'https://auth.example.com/realms/home', "oidcClientId" = 'librariarr',
			"oidcClientSecret" = ${SEALED}, "localAuthEnabled" = false, "plexLoginEnabled" = false,
			"previousSsoConfig" = ${sql.json({ oidcIssuer: 'https://old.example.com', oidcClientSecret: SEALED })}
	`;
	const [user] = await sql<{ id: number }[]>`
		insert into "User" (username, "localUsername", "passwordHash", "plexId", "plexUsername", "plexToken",
			"ssoSubject", "ssoIssuer", "ssoProvider", "ssoEnabled", "sessionVersion")
		values ('Ada Admin', ${localUsername}, ${password ? FIXED_HASH : null}, ${plex ? '4242' : null},
			${plex ? 'ada-on-plex' : null}, ${plex ? 'sealed-plex-token' : null},
			'sub-1234', 'https://auth.example.com/realms/home', 'oidc', true, 3)
		returning id
	`;
	await sql`
		insert into "Session" (id, "userId", "sessionVersion", method, "expiresAt")
		values ('session-hash', ${user.id}, 3, 'oidc', now() + interval '1 day')
	`;
	await sql`insert into "AuditEvent" ("userId", event) values (${user.id}, 'login.success')`;
	return user.id;
}

// Timestamps, and the session's random public id, differ between two databases.
const VOLATILE = new Set([
	'createdAt',
	'updatedAt',
	'lastSeenAt',
	'expiresAt',
	'occurredAt',
	'publicId'
]);

/** Every row of the auth tables, without the values that differ between two databases. */
async function snapshot(sql: postgres.Sql) {
	const strip = (rows: Record<string, unknown>[]) =>
		rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !VOLATILE.has(k))));
	return {
		User: strip(await sql`select * from "User" order by id`),
		AppSettings: strip(await sql`select * from "AppSettings"`),
		Session: strip(await sql`select * from "Session" order by id`),
		AuditEvent: strip(await sql`select "userId", event from "AuditEvent" order by id`),
		Throttle: strip(await sql`select * from "Throttle" order by key`)
	};
}

/** The database after the script, and a twin database after the guide's SQL, run directly. */
async function scriptVersusSql(args: string[], statements: string[]) {
	const a = await database();
	const b = await database();
	await seed(a.sql);
	await seed(b.sql);
	const result = await run(args, { url: a.url });
	for (const s of statements) await b.sql.unsafe(s);
	return { result, viaScript: await snapshot(a.sql), viaSql: await snapshot(b.sql), a, b };
}

const expectOneLineError = (r: Result) => {
	expect(r.code).not.toBe(0);
	expect(r.stderr.trim().split('\n')).toHaveLength(1);
	expect(r.stderr).not.toMatch(/^\s+at /m);
};

describe('help and usage', () => {
	test('--help lists every action with a description', async () => {
		const r = await run(['--help']);
		expect(r.code).toBe(0);
		for (const action of ACTIONS)
			expect(r.stdout).toMatch(new RegExp(`^\\s+${action}\\s+\\S.+$`, 'm'));
	});

	test('<action> --help describes that action and touches no database', async () => {
		for (const action of ACTIONS) {
			const r = await run([action, '--help'], { url: 'postgres://x:y@127.0.0.1:1/none' });
			expect(r.code, action).toBe(0);
			expect(r.stdout).toContain(`reset-auth.js ${action}`);
		}
		expect((await run(['reset-password', '--help'])).stdout).toContain('--username=NAME');
		expect((await run(['wipe-sso', '--help'])).stdout).toContain('--force');
	});

	test('unknown action, unknown flag, malformed flag: one line on stderr, non-zero exit', async () => {
		const cases = [
			[['frobnicate'], /Unknown action "frobnicate"/],
			[['status', '--verbose'], /Unknown option "--verbose"/],
			[['reset-password', '--username'], /--username needs a value/],
			[['reset-password', '--username=A B'], /--username must be 3 to 64/],
			[['reset-password', '--username=ab'], /--username must be 3 to 64/],
			[['wipe-sso', '--force=yes'], /--force takes no value/],
			[['status', 'extra'], /Unexpected argument "extra"/]
		] as const;
		for (const [args, message] of cases) {
			const r = await run([...args], { url: 'postgres://x:y@127.0.0.1:1/none' });
			expectOneLineError(r);
			expect(r.stderr, args.join(' ')).toMatch(message);
		}
	});

	test('an unreachable database gives a one-line error, no stack trace', async () => {
		const port = await freePort();
		const r = await run(['status'], { url: `postgres://app:hunter2@127.0.0.1:${port}/librariarr` });
		expectOneLineError(r);
		expect(r.stderr).toContain(`127.0.0.1:${port}`);
		expect(r.stderr).toMatch(/connection refused/);
		expect(r.stderr).not.toContain('hunter2');
		const forced = await run(['wipe-sso', '--force'], {
			url: `postgres://app@127.0.0.1:${port}/x`
		});
		expectOneLineError(forced);
	});

	test('DATABASE_URL_FILE names the database as the app reads it; with DATABASE_URL too, one line refuses', async () => {
		const { url } = await database();
		const file = path.join(tempDir('librariarr-secret-'), 'database_url');
		fs.writeFileSync(file, `${url}\n`);
		const r = await run(['status'], { env: { DATABASE_URL_FILE: file } });
		expect(r.stderr).toBe('');
		expect(r.code).toBe(0);
		expect(r.stdout).toContain('Users (0):');
		const both = await run(['status'], { url, env: { DATABASE_URL_FILE: file } });
		expectOneLineError(both);
		expect(both.stderr).toContain('DATABASE_URL and DATABASE_URL_FILE are both set');
		expect(both.stderr).not.toContain(url);
	});

	test('without DATABASE_URL it explains the embedded database and that the app must run', async () => {
		const config = tempDir('librariarr-cfg-');
		fs.writeFileSync(path.join(config, '.pg-password'), 'not-a-real-password\n');
		const port = await freePort();
		const r = await run(['status'], {
			env: { CONFIG_DIR: config, EMBEDDED_PG_PORT: String(port) }
		});
		expectOneLineError(r);
		expect(r.stdout).toContain(`embedded PostgreSQL on 127.0.0.1:${port}`);
		expect(r.stdout).toContain(path.join(config, '.pg-password'));
		expect(r.stderr).toMatch(/only runs while the app does/);
		expect(r.stdout + r.stderr).not.toContain('not-a-real-password');

		const missing = await run(['status'], { env: { CONFIG_DIR: path.join(config, 'nope') } });
		expectOneLineError(missing);
		expect(missing.stderr).toMatch(/DATABASE_URL is not set/);
	});
});

describe('status', () => {
	test('every action takes --force, so automation can pass it everywhere (a no-op where nothing is asked)', async () => {
		const { url, sql } = await database();
		await seed(sql);
		for (const action of ['status', 'enable-local', 'enable-plex', 'clear-throttles']) {
			const r = await run([action, '--force'], { url });
			expect(r.code, `${action} --force: ${r.stderr}`).toBe(0);
		}
	});

	test('describes users, toggles and SSO in words, never the hash or the secret', async () => {
		const { url, sql } = await database();
		await seed(sql);
		const r = await run(['status'], { url });
		expect(r.code, r.stderr).toBe(0);
		const o = r.stdout;
		expect(o).toContain('Ada Admin');
		expect(o).toContain('local username: admin');
		expect(o).toContain('password: set');
		expect(o).toContain('Plex: linked (ada-on-plex)');
		expect(o).toContain(
			'SSO: linked (oidc, issuer https://auth.example.com/realms/home, subject sub-1234)'
		);
		expect(o).toContain('local login: off');
		expect(o).toContain('Plex login: off');
		expect(o).toMatch(/^\s+SSO: on$/m);
		expect(o).toContain('SSO mode: OIDC');
		expect(o).toContain('OIDC issuer: https://auth.example.com/realms/home');
		expect(o).toContain('OIDC client secret: stored (not shown)');
		expect(o).toMatch(/SSO_DISABLE_OVERRIDE is not set/);
		// SSO is on: only SSO gets anyone in.
		expect(o).toMatch(/Username and password: no \(SSO is on/);
		expect(o).toMatch(/SSO: yes/);
		for (const secret of [FIXED_HASH, SEALED, 'the client secret', 'sealed-plex-token', '$argon2'])
			expect(o + r.stderr).not.toContain(secret);
	});

	test('shows the passkeys (count, names, host, last used, escaped) and counts them as a way in', async () => {
		const { url, sql } = await database();
		await seed(sql, { password: false, plex: false });
		await sql`update "AppSettings" set "ssoEnabled" = false, "passkeyLoginEnabled" = true`;
		const none = await run(['status'], { url });
		expect(none.stdout).toMatch(/Passkeys \(0\), passkey sign-in on:\n {2}none/);
		expect(none.stdout).toMatch(/Passkey: no \(no user has a passkey\)/);
		expect(none.stdout).toMatch(/Nobody can sign in right now/);
		const [{ id }] = await sql`select id from "User"`;
		await sql`
			insert into "Passkey" ("userId", "credentialId", "publicKey", "rpId", name, "lastUsedAt")
			values (${id}, 'a', '\\x00', 'lib.example.com', 'Laptop', '2026-11-30T10:00:00Z'),
				(${id}, 'b', '\\x00', 'lib.example.com', ${'Phone\x1b[2J'}, null)
		`;
		const r = await run(['status'], { url });
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toContain('Passkeys (2), passkey sign-in on:');
		expect(r.stdout).toContain(
			'  Laptop (user Ada Admin, host lib.example.com, last used 2026-11-30T10:00:00.000Z)'
		);
		expect(r.stdout).toContain(
			'  Phone\\x1b[2J (user Ada Admin, host lib.example.com, never used)'
		);
		expect(r.stdout).toMatch(/- Passkey, as Ada Admin\./);
		expect(r.stdout).not.toMatch(/Nobody can sign in right now/);
		await sql`update "AppSettings" set "passkeyLoginEnabled" = false`;
		const off = await run(['status'], { url });
		expect(off.stdout).toMatch(/Passkey: no \(passkey sign-in is switched off\)/);
		expect(off.stdout).toMatch(/Nobody can sign in right now/);
	});

	test('reports the override from its own environment and what it changes', async () => {
		const { url, sql } = await database();
		await seed(sql);
		const r = await run(['status'], { url, env: { SSO_DISABLE_OVERRIDE: '  YeS ' } });
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toMatch(/SSO_DISABLE_OVERRIDE is set/);
		expect(r.stdout).toMatch(/Username and password, as admin/);
		expect(r.stdout).toMatch(/Plex, as ada-on-plex/);
		expect(r.stdout).toMatch(/SSO: no \(SSO_DISABLE_OVERRIDE is set\)/);
		const off = await run(['status'], { url, env: { SSO_DISABLE_OVERRIDE: 'on' } });
		expect(off.stdout).toMatch(/SSO_DISABLE_OVERRIDE is not set/);
	});

	test('an empty instance says first-run setup; a locked-out one says nobody can sign in', async () => {
		const { url, sql } = await database();
		const empty = await run(['status'], { url });
		expect(empty.code).toBe(0);
		expect(empty.stdout).toMatch(/Users \(0\)/);
		expect(empty.stdout).toMatch(/first-run setup/);
		await seed(sql, { password: false, plex: false });
		await sql`update "AppSettings" set "oidcClientId" = null`; // broken SSO config
		const locked = await run(['status'], { url });
		expect(locked.stdout).toMatch(/SSO: no \(not configured\)/);
		expect(locked.stdout).toMatch(/Nobody can sign in right now/);
	});
});

/** A sign-in throttle in full swing: the admin's username locked, one key merely counting. */
async function seedThrottles(sql: postgres.Sql) {
	await sql`
		insert into "Throttle" (key, kind, attempts, "maxAttempts", "windowEndsAt") values
			('password:account:admin', 'password', 10, 10, now() + interval '14 minutes'),
			('password:pair:192.0.2.7:admin', 'password', 10, 10, now() + interval '14 minutes'),
			('password:address:192.0.2.8', 'password', 3, 20, now() + interval '5 minutes')
	`;
}

describe('stored strings are printed escaped', () => {
	test('escape sequences in a display name, names and keys cannot reach the terminal', async () => {
		const { url, sql } = await database();
		await seed(sql);
		// Inserted by SQL, past any check the web forms make.
		const name =
			'Ada\x1b[2J\x1b[H\nWays in right now:\n  - Username and password, as root.\u009b31m\u202e';
		await sql`
			update "User" set username = ${name}, "plexUsername" = ${'plex\x07\x1b]0;owned\x07'},
				"ssoSubject" = ${'sub\r\x1b[1A'}
		`;
		await sql`update "AppSettings" set "oidcIssuer" = ${'https://idp\x1b[31m.example'}`;
		await seedThrottles(sql);
		await sql`
			insert into "Throttle" (key, kind, attempts, "maxAttempts", "windowEndsAt")
			values (${'password:account:\x1b[2Jroot'}, 'password', 10, 10, now() + interval '1 minute')
		`;
		const r = await run(['status'], { url });
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
		expect(r.stdout).toContain(
			'Ada\\x1b[2J\\x1b[H\\x0aWays in right now:\\x0a  - Username and password, as root.\\x9b31m\\u202e (id '
		);
		expect(r.stdout).toContain('Plex: linked (plex\\x07\\x1b]0;owned\\x07)');
		expect(r.stdout).toContain('subject sub\\x0d\\x1b[1A)');
		expect(r.stdout).toContain('OIDC issuer: https://idp\\x1b[31m.example');
		expect(r.stdout).toContain('password:account:\\x1b[2Jroot: 10 attempts');
		// the forged line never stands on a line of its own
		expect(r.stdout).not.toMatch(/^\s*- Username and password, as root/m);
	});

	test('refusals that name users escape them too', async () => {
		const { url, sql } = await database();
		await seed(sql);
		await sql`insert into "User" (username) values (${'Bob\x1b[2J'})`;
		const r = await runTty(['reset-password'], url, []);
		expect(r.code).toBe(1);
		expect(r.output).toContain('Bob\\x1b[2J');
		expect(r.output).not.toContain('Bob\x1b');
	});
});

describe('the sign-in throttle', () => {
	test('status says until when a throttle blocks the password way in, next to that way', async () => {
		const { url, sql } = await database();
		await seed(sql);
		await sql`update "AppSettings" set "ssoEnabled" = false, "localAuthEnabled" = true`;
		const free = await run(['status'], { url, env: { TZ: 'UTC' } });
		expect(free.stdout).toContain('  - Username and password, as admin.');
		await seedThrottles(sql);
		const [{ lifts }] = await sql<{ lifts: string }[]>`
			select to_char("windowEndsAt" at time zone 'UTC', 'HH24:MI') as lifts
			from "Throttle" where key = 'password:account:admin'
		`;
		const r = await run(['status'], { url, env: { TZ: 'UTC' } });
		expect(r.stdout).toContain(
			`  - Username and password, as admin (throttled until ${lifts} UTC for browsers it has not signed in from; clear-throttles lifts it).`
		);
	});

	test("clear-throttles does what the README's SQL does and says how much it lifted", async () => {
		const a = await database();
		const b = await database();
		for (const db of [a, b]) {
			await seed(db.sql);
			await seedThrottles(db.sql);
		}
		const before = await run(['status'], { url: a.url });
		expect(before.stdout).toMatch(/Sign-in throttle: 2 key\(s\) refusing attempts/);
		expect(before.stdout).toContain('password:account:admin: 10 attempts, lifts at ');
		const result = await run(['clear-throttles'], { url: a.url });
		await b.sql.unsafe(`DELETE FROM "Throttle";`);
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toMatch(/3 counter\(s\) cleared, 2 of them refusing attempts/);
		const [viaScript, viaSql] = [await snapshot(a.sql), await snapshot(b.sql)];
		expect(viaScript).toEqual(viaSql);
		expect(viaScript.Throttle).toEqual([]);
		expect(viaScript.User).toHaveLength(1); // nothing else touched
		const after = await run(['status'], { url: a.url });
		expect(after.stdout).toContain('Sign-in throttle: nothing is being refused.');
	});
});

describe("each action does what the guide's SQL does", () => {
	test("wipe-sso --force (no terminal): the guide's two UPDATEs, plus a new config version", async () => {
		const { result, viaScript, viaSql } = await scriptVersusSql(
			['wipe-sso', '--force'],
			[
				`UPDATE "AppSettings" SET "ssoEnabled" = false, "ssoMode" = 'OIDC', "oidcIssuer" = NULL, "oidcClientId" = NULL, "oidcClientSecret" = NULL, "previousSsoConfig" = NULL;`,
				`UPDATE "User" SET "ssoSubject" = NULL, "ssoIssuer" = NULL, "ssoProvider" = NULL, "ssoEnabled" = false, "sessionVersion" = "sessionVersion" + 1;`
			]
		);
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toMatch(/1 SSO link\(s\) removed; 1 user\(s\) signed out/);
		const scriptVersion = viaScript.AppSettings[0].ssoConfigVersion as number;
		const sqlVersion = viaSql.AppSettings[0].ssoConfigVersion as number;
		expect(scriptVersion).toBe(sqlVersion + 1);
		viaScript.AppSettings[0].ssoConfigVersion = sqlVersion;
		expect(viaScript).toEqual(viaSql);
		expect(viaScript.User[0].ssoSubject).toBeNull(); // the comparison is not vacuous
		expect(viaScript.User[0].sessionVersion).toBe(4);
	});

	test('enable-local', async () => {
		const { result, viaScript, viaSql } = await scriptVersusSql(
			['enable-local'],
			[`UPDATE "AppSettings" SET "localAuthEnabled" = true;`]
		);
		expect(result.code, result.stderr).toBe(0);
		expect(viaScript).toEqual(viaSql);
		expect(viaScript.AppSettings[0].localAuthEnabled).toBe(true);
		expect(result.stdout).toMatch(/SSO is on, which hides the sign-in form/);
	});

	test('enable-plex', async () => {
		const { result, viaScript, viaSql } = await scriptVersusSql(
			['enable-plex'],
			[`UPDATE "AppSettings" SET "plexLoginEnabled" = true;`]
		);
		expect(result.code, result.stderr).toBe(0);
		expect(viaScript).toEqual(viaSql);
		expect(viaScript.AppSettings[0].plexLoginEnabled).toBe(true);
	});

	test('delete-user --force: every user and their sessions go, the settings row stays', async () => {
		const { result, viaScript, viaSql } = await scriptVersusSql(
			['delete-user', '--force'],
			[`DELETE FROM "User";`]
		);
		expect(result.code, result.stderr).toBe(0);
		expect(viaScript).toEqual(viaSql);
		expect(viaScript.User).toEqual([]);
		expect(viaScript.Session).toEqual([]);
		expect(viaScript.AppSettings).toHaveLength(1);
		expect(viaScript.AuditEvent).toEqual([{ userId: null, event: 'login.success' }]);
		expect(result.stdout).toMatch(/first-run setup/);
	});

	test('enable-local and enable-plex warn when there is nothing for them to show', async () => {
		const { url, sql } = await database();
		await seed(sql, { password: false, plex: false });
		const local = await run(['enable-local'], { url });
		expect(local.code).toBe(0);
		expect(local.stdout).toMatch(/Warning: no user has a password/);
		const plex = await run(['enable-plex'], { url });
		expect(plex.code).toBe(0);
		expect(plex.stdout).toMatch(/Warning: no user has a Plex account linked/);
		const { url: url2, sql: sql2 } = await database();
		await seed(sql2);
		expect((await run(['enable-local'], { url: url2 })).stdout).not.toMatch(
			/no user has a password/
		);
		expect((await run(['enable-plex'], { url: url2 })).stdout).not.toMatch(/no user has a Plex/);
	});
});

describe('confirmation of destructive actions', () => {
	test('without a terminal and without --force they refuse and change nothing', async () => {
		const { url, sql } = await database();
		await seed(sql);
		const before = await snapshot(sql);
		for (const action of ['wipe-sso', 'delete-user', 'disable-2fa']) {
			const r = await run([action], { url });
			expectOneLineError(r);
			expect(r.stderr).toMatch(/Add --force/);
		}
		expect(await snapshot(sql)).toEqual(before);
	});

	test('answering anything but yes changes nothing', async () => {
		const { url, sql } = await database();
		await seed(sql);
		const before = await snapshot(sql);
		for (const action of ['wipe-sso', 'delete-user']) {
			const r = await runTty([action], url, [{ waitFor: 'Type yes to go ahead: ', type: 'no\r' }]);
			expect(r.code, r.output).not.toBe(0);
			expect(r.output).toMatch(/Cancelled; nothing was changed/);
		}
		expect(await snapshot(sql)).toEqual(before);
	});

	test('answering yes goes ahead', async () => {
		const { url, sql } = await database();
		await seed(sql);
		const wipe = await runTty(['wipe-sso'], url, [
			{ waitFor: 'Type yes to go ahead: ', type: 'yes\r' }
		]);
		expect(wipe.code, wipe.output).toBe(0);
		expect(wipe.output).toMatch(/signs every\s+user out/); // the description came before the question
		const [settings] = await sql`select "oidcIssuer", "ssoEnabled" from "AppSettings"`;
		expect(settings).toEqual({ oidcIssuer: null, ssoEnabled: false });
		const del = await runTty(['delete-user'], url, [
			{ waitFor: 'Type yes to go ahead: ', type: 'YES\r' }
		]);
		expect(del.code, del.output).toBe(0);
		expect(del.output).toContain('Ada Admin');
		expect(await sql`select id from "User"`).toHaveLength(0);
	});
});

describe('reset-password', () => {
	const PROMPTS = ['New password: ', 'Same password again: '];
	const answers = (a: string, b: string) => [
		{ waitFor: PROMPTS[0], type: a },
		{ waitFor: PROMPTS[1], type: b }
	];
	const userRow = async (sql: postgres.Sql) =>
		(await sql`select "localUsername", "passwordHash", "sessionVersion" from "User"`)[0];

	test('sets an argon2id hash that verifies, without echoing, and ends every session', async () => {
		const { url, sql } = await database();
		await seed(sql, { localUsername: null });
		const password = 'Tr0ub4dor&3-xyzzy';
		// A typo corrected with backspace is part of the first entry.
		const r = await runTty(
			['reset-password', '--username=Admin.Two'],
			url,
			answers(`${password}Q\x7f\r`, `${password}\r`)
		);
		expect(r.code, r.output).toBe(0);
		expect(r.output).not.toContain(password);
		expect(r.output).not.toContain('Tr0ub');
		expect(r.output).toMatch(/sign in as "admin.two"/);
		const row = await userRow(sql);
		expect(row.localUsername).toBe('admin.two');
		expect(row.sessionVersion).toBe(4);
		expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
		expect(await verify(row.passwordHash, password)).toBe(true);
		expect(await verify(row.passwordHash, password + 'Q')).toBe(false);
	});

	test('lifts the sign-in throttle along with the new password', async () => {
		const { url, sql } = await database();
		await seed(sql);
		await seedThrottles(sql);
		const r = await runTty(
			['reset-password'],
			url,
			answers('a new password\r', 'a new password\r')
		);
		expect(r.code, r.output).toBe(0);
		expect(r.output).toMatch(/Sign-in throttle lifted \(3 counter\(s\) cleared\)/);
		expect(await sql`select key from "Throttle"`).toEqual([]);
	});

	test('keeps the existing username when none is given', async () => {
		const { url, sql } = await database();
		await seed(sql);
		const r = await runTty(
			['reset-password'],
			url,
			answers('  eight chars  \r', '  eight chars  \r')
		);
		expect(r.code, r.output).toBe(0);
		const row = await userRow(sql);
		expect(row.localUsername).toBe('admin');
		expect(await verify(row.passwordHash, '  eight chars  ')).toBe(true);
	});

	test('a mismatch, a too-short password or Ctrl-C change nothing', async () => {
		const { url, sql } = await database();
		await seed(sql);
		const before = await snapshot(sql);
		const mismatch = await runTty(
			['reset-password'],
			url,
			answers('long enough 1\r', 'long enough 2\r')
		);
		expect(mismatch.code).not.toBe(0);
		expect(mismatch.output).toMatch(/differ\. Nothing was changed/);
		const short = await runTty(['reset-password'], url, [
			{ waitFor: PROMPTS[0], type: '  1234567   \r' }
		]);
		expect(short.code).not.toBe(0);
		expect(short.output).toMatch(/at least 8 characters/);
		const aborted = await runTty(['reset-password'], url, [
			{ waitFor: PROMPTS[0], type: 'secret-so-far\x03' }
		]);
		expect(aborted.code).not.toBe(0);
		expect(aborted.output).toMatch(/Aborted; nothing was changed/);
		expect(aborted.output).not.toContain('secret-so-far');
		expect(await snapshot(sql)).toEqual(before);
	});

	test('refuses without a terminal', async () => {
		const { url, sql } = await database();
		await seed(sql);
		const before = await snapshot(sql);
		const r = await run(['reset-password', '--username=admin'], { url });
		expectOneLineError(r);
		expect(r.stderr).toMatch(/needs a terminal/);
		expect(await snapshot(sql)).toEqual(before);
	});

	test('picks the user: refuses without a username to set, with several users, and with none', async () => {
		const { url, sql } = await database();
		const none = await runTty(['reset-password'], url, []);
		expect(none.code).not.toBe(0);
		expect(none.output).toMatch(/There are no users/);

		await seed(sql, { localUsername: null });
		const noName = await runTty(['reset-password'], url, []);
		expect(noName.code).not.toBe(0);
		expect(noName.output).toMatch(/has no local username yet.*--username=NAME/s);

		await sql`insert into "User" (username, "localUsername") values ('Bob', 'bob')`;
		const several = await runTty(['reset-password'], url, []);
		expect(several.code).not.toBe(0);
		expect(several.output).toMatch(/There are 2 users/);
		expect(several.output).toMatch(/Ada Admin/);
		expect(several.output).toMatch(/Bob/);
		const unknown = await runTty(['reset-password', '--username=carol'], url, []);
		expect(unknown.output).toMatch(/No user has the local username "carol"/);

		const bob = await runTty(
			['reset-password', '--username=bob'],
			url,
			answers('bobs new password\r', 'bobs new password\r')
		);
		expect(bob.code, bob.output).toBe(0);
		const [row] =
			await sql`select "passwordHash", "sessionVersion" from "User" where "localUsername" = 'bob'`;
		expect(await verify(row.passwordHash, 'bobs new password')).toBe(true);
		expect(row.sessionVersion).toBe(2);
		const [ada] = await sql`select "passwordHash" from "User" where username = 'Ada Admin'`;
		expect(ada.passwordHash).toBe(FIXED_HASH);
	});
});

describe('where the packages come from', () => {
	test('resolved from the working directory, not from beside the script', async () => {
		const { url, sql } = await database();
		await seed(sql);
		// As after `docker cp reset-auth.js librariarr:/tmp/`: no node_modules next to the script.
		const lonely = tempDir('librariarr-tmp-');
		const copy = path.join(lonely, 'reset-auth.js');
		fs.copyFileSync(SCRIPT, copy);
		const ok = await run(['status'], { url, cwd: REPO, script: copy });
		expect(ok.code, ok.stderr).toBe(0);
		expect(ok.stdout).toContain('Ada Admin');
		// And from a directory without the app's packages, the script says where to run it.
		const wrong = await run(['status'], { url, cwd: lonely, script: SCRIPT });
		expectOneLineError(wrong);
		expect(wrong.stderr).toMatch(/run this from the Librariarr app directory, e\.g\. cd \/app/);
	});

	test('works with only the production dependencies installed', { timeout: 120_000 }, async () => {
		const { url, sql } = await database();
		await seed(sql);
		const app = tempDir('librariarr-prod-');
		fs.copyFileSync(path.join(REPO, 'package.json'), path.join(app, 'package.json'));
		fs.copyFileSync(path.join(REPO, 'package-lock.json'), path.join(app, 'package-lock.json'));
		const install = await new Promise<Result>((resolve, reject) => {
			const child = spawn(
				'npm',
				['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'],
				{
					cwd: app,
					env: baseEnv(),
					stdio: ['ignore', 'pipe', 'pipe']
				}
			);
			let stdout = '';
			let stderr = '';
			child.stdout.on('data', (d) => (stdout += d));
			child.stderr.on('data', (d) => (stderr += d));
			child.on('error', reject);
			child.on('close', (code) => resolve({ code, stdout, stderr }));
		});
		expect(install.code, install.stderr).toBe(0);
		expect(fs.existsSync(path.join(app, 'node_modules', 'postgres'))).toBe(true);
		expect(fs.existsSync(path.join(app, 'node_modules', 'vitest'))).toBe(false);
		const r = await run(['status'], { url, cwd: app });
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toContain('Ada Admin');
		// The hashing package loads there too: a password reset in a terminal from that directory.
		const reset = await runTty(
			['reset-password'],
			url,
			[
				{ waitFor: 'New password: ', type: 'prod only pw\r' },
				{ waitFor: 'Same password again: ', type: 'prod only pw\r' }
			],
			{ cwd: app, script: SCRIPT }
		);
		expect(reset.code, reset.output).toBe(0);
		const [row] = await sql`select "passwordHash" from "User"`;
		expect(await verify(row.passwordHash, 'prod only pw')).toBe(true);
	});
});

describe('account security: the authenticator app and recovery codes', () => {
	const DISABLE_SQL = `UPDATE "User" SET "totpSecret" = NULL, "totpPendingSecret" = NULL, "totpEnabledAt" = NULL, "totpLastStep" = NULL;`;

	async function withTwoFactor(sql: postgres.Sql, name = 'Ada Admin') {
		const id = await seed(sql);
		await sql`
			update "User" set username = ${name}, "totpSecret" = 'sealed-totp-secret',
				"totpEnabledAt" = now(), "totpLastStep" = 12345
			where id = ${id}
		`;
		for (let i = 0; i < 4; i++) {
			await sql`
				insert into "RecoveryCode" ("userId", "codeHash", "usedAt")
				values (${id}, ${`hash-${i}`}, ${i === 0 ? new Date() : null})
			`;
		}
		return id;
	}

	test('status shows whether TOTP is on and how many recovery codes are unused', async () => {
		const { url, sql } = await database();
		await withTwoFactor(sql);
		const on = await run(['status'], { url });
		expect(on.code, on.stderr).toBe(0);
		expect(on.stdout).toMatch(/authenticator app \(TOTP\): on/);
		expect(on.stdout).toMatch(/unused recovery codes: 3$/m);
		await sql.unsafe(DISABLE_SQL);
		expect((await run(['status'], { url })).stdout).toMatch(/authenticator app \(TOTP\): off/);
	});

	test("disable-2fa --force does what the README's SQL does, audits it, keeps the codes", async () => {
		const a = await database();
		const b = await database();
		await withTwoFactor(a.sql);
		await withTwoFactor(b.sql);
		const result = await run(['disable-2fa', '--force'], { url: a.url });
		expect(result.code, result.stderr).toBe(0);
		expect(result.stdout).toMatch(/Authenticator app turned off for Ada Admin/);
		await b.sql.unsafe(DISABLE_SQL);
		const viaScript = await snapshot(a.sql);
		const viaSql = await snapshot(b.sql);
		expect(viaScript.User).toEqual(viaSql.User);
		expect(viaScript.User[0].totpSecret).toBeNull(); // the comparison is not vacuous
		expect(viaScript.AuditEvent.at(-1)).toEqual({
			userId: viaScript.User[0].id,
			event: 'totp.disabled'
		});
		const [{ count }] =
			await a.sql`select count(*)::int from "RecoveryCode" where "usedAt" is null`;
		expect(count).toBe(3);

		const again = await run(['disable-2fa', '--force'], { url: a.url });
		expect(again.code).toBe(0);
		expect(again.stdout).toMatch(/already off/);
	});

	test('disable-2fa --username picks one user, refuses an unknown one, and escapes stored names', async () => {
		const { url, sql } = await database();
		await withTwoFactor(sql, 'Ada\u001b[2J Admin');
		const unknown = await run(['disable-2fa', '--force', '--username=nobody'], { url });
		expectOneLineError(unknown);
		expect(unknown.stderr).toMatch(/No user has the local username "nobody"/);
		const [before] = await sql`select "totpSecret" from "User"`;
		expect(before.totpSecret).not.toBeNull();

		const r = await run(['disable-2fa', '--force', '--username=admin'], { url });
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).not.toContain('\u001b');
		expect(r.stdout).toContain('Ada\\x1b[2J Admin');
		const [after] = await sql`select "totpSecret" from "User"`;
		expect(after.totpSecret).toBeNull();
	});
});
