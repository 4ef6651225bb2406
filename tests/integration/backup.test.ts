// Backups against the built server: round trips, refusals that leave the database untouched,
// retention, sessions after a restore, and the first-run restore page.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { decodeBackup, encodeBackup } from '../../src/lib/server/backup/codec';
import type { Payload } from '../../src/lib/server/backup/format';
import { loadKey, open, seal } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

const SECRET_KEY = 'backup test instance key';
const key = loadKey({ SECRET_KEY });
const PASSPHRASE = 'a long backup passphrase';

let app: App;
let configDir: string;
let backupsDir: string;

beforeAll(async () => {
	configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-backup-'));
	backupsDir = path.join(configDir, 'backups');
	app = await startApp({ CONFIG_DIR: configDir, SECRET_KEY, BODY_SIZE_LIMIT: '60M' });
});
afterAll(async () => {
	await app?.stop();
	fs.rmSync(configDir, { recursive: true, force: true });
});
beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`delete from "AuditEvent"`;
	await app.sql`delete from "Throttle"`;
	await app.sql`delete from "AppSettings"`;
	await app.sql`insert into "AppSettings" (id) values (1)`;
	// The list of backups lives in the database too (every instance lists every backup).
	await app.sql`delete from "Backup"`;
	fs.rmSync(backupsDir, { recursive: true, force: true });
});

type Browser = ReturnType<typeof browser>;

async function signedIn() {
	const b = browser(app.url);
	const res = await b.signIn();
	expect(res.status).toBe(303);
	return b;
}

/** Posts a multipart form the way a browser does (cookie, Origin, no redirects followed). */
async function postMultipart(
	b: Browser,
	url: string,
	fields: Record<string, string | { bytes: Uint8Array; filename: string }>
) {
	const form = new FormData();
	for (const [k, v] of Object.entries(fields)) {
		if (typeof v === 'string') form.append(k, v);
		else form.append(k, new Blob([new Uint8Array(v.bytes)]), v.filename);
	}
	const headers: Record<string, string> = { accept: 'text/html', origin: app.url };
	if (b.jar.size) headers.cookie = [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ');
	return fetch(app.url + url, { method: 'POST', headers, body: form, redirect: 'manual' });
}

/** Every table, every row, as PostgreSQL renders it (timestamps to the microsecond). */
async function dumpAll() {
	const out: Record<string, unknown> = {};
	for (const table of [
		'User',
		'AppSettings',
		'AuditEvent',
		'Session',
		'UsedSignInFlow',
		'Throttle',
		'_Migration'
	]) {
		const [{ rows }] = await app.sql<{ rows: unknown }[]>`
			select coalesce(json_agg(to_json(t) order by t::text), '[]'::json) as rows
			from ${app.sql(table)} t
		`;
		out[table] = rows;
	}
	return out;
}

async function rows(table: string) {
	const [{ rows }] = await app.sql<{ rows: Record<string, unknown>[] }[]>`
		select coalesce(json_agg(to_json(t) order by t.id), '[]'::json) as rows
		from ${app.sql(table)} t
	`;
	return rows;
}

/** Users with every kind of sign-in field, settings with secrets and a snapshot, audit rows. */
async function fillDatabase() {
	await insertAdmin(app.sql);
	await app.sql`
		update "User" set email = 'ada@example.test', "plexId" = '1001', "plexUsername" = 'ada-plex',
			"plexToken" = ${seal('plex-token-ada', key)}, "ssoSubject" = 'sub-ada',
			"ssoIssuer" = 'https://idp.example.test', "ssoProvider" = 'oidc', "ssoEnabled" = true,
			"sessionVersion" = 4, "createdAt" = '2025-01-02 03:04:05.123456+00'
		where "localUsername" = 'admin'
	`;
	await app.sql`
		insert into "User" (username, email, "plexId", "plexUsername", "plexToken", "ssoSubject",
			"ssoIssuer", "ssoProvider")
		values ('Bob', null, '2002', 'bob-plex', ${seal('plex-token-bob', key)}, 'bob',
			'forward-auth', 'forward-auth')
	`;
	await app.sql`
		update "AppSettings" set "plexLoginEnabled" = true, "plexClientIdentifier" = 'client-uuid',
			"ssoEnabled" = false, "ssoMode" = 'OIDC', "oidcIssuer" = 'https://idp.example.test',
			"oidcClientId" = 'librariarr', "oidcClientSecret" = ${seal('client secret!', key)},
			"oidcScopes" = 'openid profile email groups', "oidcUsernameClaim" = 'name',
			"forwardAuthUserHeader" = 'X-User',
			"previousSsoConfig" = ${app.sql.json({
				oidcIssuer: 'https://old-idp.example.test',
				oidcClientId: 'old-client',
				oidcScopes: 'openid',
				nested: { list: [1, 'two', null] }
			})},
			"ssoConfigVersion" = 7, "backupRetention" = 9, "backupSchedule" = 'weekly',
			"updatedAt" = '2026-05-06 07:08:09.654321+00'
		where id = 1
	`;
	for (let i = 0; i < 5; i++) {
		await app.sql`
			insert into "AuditEvent" ("occurredAt", "userId", event, method, ip, detail)
			values (now() - ${`${i} hours`}::interval, (select min(id) from "User"),
				${`test.event.${i}`}, 'local', '192.0.2.1', ${app.sql.json({ i, note: 'ünïcode ✓' })})
		`;
	}
	await app.sql`insert into "AuditEvent" (event) values ('system.event')`;
	await app.sql`
		insert into "Throttle" (key, kind, attempts, "maxAttempts", "windowEndsAt")
		values ('password:address:192.0.2.9', 'password', 1, 20, now() + interval '10 minutes')
	`;
}

async function createBackup(b: Browser, passphrase = '') {
	const res = await b.post('/settings/backups?/create', { passphrase });
	expect(res.status).toBe(200);
	const html = await res.text();
	const name = /Backup (librariarr-[^ ]+) created/.exec(html)?.[1];
	expect(name, html.slice(0, 500)).toBeTruthy();
	expect(fs.existsSync(path.join(backupsDir, name!))).toBe(true);
	return name!;
}

function backupFiles() {
	return fs.existsSync(backupsDir) ? fs.readdirSync(backupsDir).sort() : [];
}

/** Compares restored rows with the originals; secrets compare by what they open to. */
function expectSameRows(
	before: Record<string, unknown>[],
	after: Record<string, unknown>[],
	secret: string,
	secretsKept: boolean,
	ignore: string[] = []
) {
	expect(after).toHaveLength(before.length);
	before.forEach((row, i) => {
		const { [secret]: s1, ...rest1 } = row;
		const { [secret]: s2, ...rest2 } = after[i];
		for (const k of ignore) {
			delete rest1[k];
			delete rest2[k];
		}
		expect(rest2).toEqual(rest1);
		if (secretsKept) expect(open(s2 as string, key)).toBe(open(s1 as string, key));
		else expect(s2).toBeNull();
	});
}

describe('round trip', () => {
	for (const passphrase of ['', PASSPHRASE]) {
		for (const via of ['settings', 'setup'] as const) {
			const label = `${passphrase ? 'encrypted' : 'plain'} backup, restored via ${via}`;
			test(label, async () => {
				await fillDatabase();
				const b = await signedIn();
				const other = await signedIn();
				const before = {
					User: await rows('User'),
					AppSettings: await rows('AppSettings'),
					AuditEvent: await rows('AuditEvent')
				};
				const name = await createBackup(b, passphrase);
				expect(name.endsWith('.enc')).toBe(Boolean(passphrase));
				const fileBytes = fs.readFileSync(path.join(backupsDir, name));
				// No instance-key secret in plain text in a plain file; nothing readable in an encrypted one
				for (const s of ['plex-token-ada', 'client secret!', PASSPHRASE]) {
					expect(gunzipOrRaw(fileBytes)).not.toContain(s);
				}
				if (passphrase) {
					for (const s of ['argon2id', 'Ada Admin', 'old-idp']) {
						expect(fileBytes.toString('latin1')).not.toContain(s);
					}
				} else {
					expect(gunzipOrRaw(fileBytes)).toContain('old-idp.example.test');
				}

				let res: Response;
				if (via === 'setup') {
					// Wipe everything, as on a fresh instance, then restore from the first-run page.
					await app.sql`delete from "User"`;
					await app.sql`delete from "AuditEvent"`;
					await app.sql`delete from "AppSettings"`;
					await app.sql`insert into "AppSettings" (id) values (1)`;
					expect(await rows('User')).toEqual([]);
					res = await postMultipart(browser(app.url), '/setup/restore', {
						name: '',
						file: { bytes: fileBytes, filename: name },
						passphrase
					});
				} else {
					// Damage the data a little, then restore from the settings.
					await app.sql`update "User" set username = 'changed', "plexToken" = null`;
					await app.sql`insert into "User" (username) values ('intruder')`;
					await app.sql`delete from "AuditEvent" where event = 'test.event.2'`;
					await app.sql`update "AppSettings" set "previousSsoConfig" = null, "oidcClientSecret" = null`;
					res = await postMultipart(b, '/settings/backups?/restore', {
						name,
						passphrase,
						confirm: 'on'
					});
				}
				expect(
					res.status,
					app
						.logs()
						.split('\n')
						.filter((l) => /Restore/.test(l))
						.join('\n')
				).toBe(303);
				expect(res.headers.get('location')).toBe('/login');

				expectSameRows(before.User, await rows('User'), 'plexToken', Boolean(passphrase));
				const settingsAfter = await rows('AppSettings');
				expectSameRows(before.AppSettings, settingsAfter, 'oidcClientSecret', Boolean(passphrase), [
					'lastBackupAt'
				]);
				expect(settingsAfter[0].previousSsoConfig).toEqual(before.AppSettings[0].previousSsoConfig);
				const auditAfter = await rows('AuditEvent');
				expect(auditAfter.slice(0, before.AuditEvent.length)).toEqual(before.AuditEvent);
				expect(auditAfter.slice(before.AuditEvent.length).map((r) => r.event)).toEqual([
					'backup.restored'
				]);
				// the sequences moved past the restored ids
				const [{ id }] = await app.sql`insert into "User" (username) values ('new') returning id`;
				expect(id).toBeGreaterThan(Math.max(...before.User.map((u) => u.id as number)));

				// every session ended: the old cookies go to /login
				expect(await app.sql`select 1 from "Session"`).toHaveLength(0);
				for (const client of [b, other]) {
					const page = await client.get('/settings/backups');
					expect(page.status).toBe(303);
					expect(page.headers.get('location')).toMatch(/^\/login/);
				}
				// and the restored password works
				expect((await browser(app.url).signIn()).status).toBe(303);
			});
		}
	}
});

function gunzipOrRaw(bytes: Buffer) {
	try {
		return gunzipSync(bytes).toString('latin1');
	} catch {
		return bytes.toString('latin1');
	}
}

describe('refused restores leave every table exactly as it was', () => {
	async function setup() {
		await fillDatabase();
		const b = await signedIn();
		const plain = await createBackup(b);
		const enc = await createBackup(b, PASSPHRASE);
		return {
			b,
			plainBytes: fs.readFileSync(path.join(backupsDir, plain)),
			encBytes: fs.readFileSync(path.join(backupsDir, enc)),
			enc
		};
	}

	async function expectRefused(
		b: Browser,
		fields: Record<string, string | { bytes: Uint8Array; filename: string }>,
		status: number,
		message: RegExp,
		url = '/settings/backups?/restore'
	) {
		const before = await dumpAll();
		const res = await postMultipart(b, url, { confirm: 'on', name: '', passphrase: '', ...fields });
		const html = await res.text();
		expect(res.status, html.slice(0, 300)).toBe(status);
		expect(html).toMatch(message);
		expect(await dumpAll()).toEqual(before);
		// still signed in
		expect((await b.get('/settings/backups')).status).toBe(200);
	}

	const upload = (bytes: Uint8Array) => ({ bytes, filename: 'backup.json.gz' });

	test('wrong passphrase, missing passphrase', async () => {
		const { b, enc, encBytes } = await setup();
		await expectRefused(
			b,
			{ name: enc, passphrase: 'not the passphrase' },
			400,
			/Wrong passphrase/
		);
		await expectRefused(
			b,
			{ file: upload(encBytes), passphrase: 'nope nope' },
			400,
			/Wrong passphrase/
		);
		await expectRefused(b, { name: enc }, 400, /encrypted\. Enter its passphrase/);
	});

	test('truncated, tampered, bad gzip, gzip of non-JSON, not a backup', async () => {
		const { b, plainBytes, encBytes } = await setup();
		const damaged = /damaged or incomplete/;
		await expectRefused(
			b,
			{ file: upload(plainBytes.subarray(0, plainBytes.length - 20)) },
			400,
			damaged
		);
		await expectRefused(
			b,
			{ file: upload(encBytes.subarray(0, encBytes.length - 20)), passphrase: PASSPHRASE },
			400,
			damaged
		);
		const flipped = Buffer.from(encBytes);
		flipped[flipped.length - 30] ^= 0x04;
		await expectRefused(b, { file: upload(flipped), passphrase: PASSPHRASE }, 400, damaged);
		const flippedPlain = Buffer.from(plainBytes);
		flippedPlain[Math.floor(flippedPlain.length / 2)] ^= 0x04;
		await expectRefused(b, { file: upload(flippedPlain) }, 400, /damaged|not a Librariarr backup/);
		await expectRefused(
			b,
			{ file: upload(Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from('garbage')])) },
			400,
			damaged
		);
		await expectRefused(b, { file: upload(gzipSync('just some text')) }, 400, /not JSON/);
		await expectRefused(b, { file: upload(Buffer.from('hello')) }, 400, /not a Librariarr backup/);
		await expectRefused(b, {}, 400, /Choose a backup/);
	});

	test('a future format version or an unknown schema migration', async () => {
		const { b, plainBytes } = await setup();
		const payload = JSON.parse(gunzipSync(plainBytes).toString('utf8')) as Payload;
		await expectRefused(
			b,
			{ file: upload(gzipSync(JSON.stringify({ ...payload, version: 2 }))) },
			400,
			/newer version of Librariarr/
		);
		const futureEnc = await encodeBackup({ ...payload, version: 3 }, PASSPHRASE);
		await expectRefused(
			b,
			{ file: upload(futureEnc), passphrase: PASSPHRASE },
			400,
			/newer version/
		);
		await expectRefused(
			b,
			{
				file: upload(
					gzipSync(
						JSON.stringify({ ...payload, migrations: [...payload.migrations, '9999_x.sql'] })
					)
				)
			},
			400,
			/newer database schema/
		);
	});

	test('content the database refuses rolls the whole restore back', async () => {
		const { b, plainBytes } = await setup();
		const payload = JSON.parse(gunzipSync(plainBytes).toString('utf8')) as Payload;
		// two users with the same Plex id: the second insert fails after the deletes already ran
		const users = payload.tables.User;
		const bad = {
			...payload,
			tables: { ...payload.tables, User: [...users, { ...users[0], id: 999, localUsername: 'x' }] }
		};
		await expectRefused(
			b,
			{ file: upload(gzipSync(JSON.stringify(bad))) },
			422,
			/Nothing was changed/
		);
		const noUsers = { ...payload, tables: { ...payload.tables, User: [] } };
		await expectRefused(
			b,
			{ file: upload(gzipSync(JSON.stringify(noUsers))) },
			400,
			/no users: restoring it would leave nobody to sign in/
		);
		const unknownColumn = {
			...payload,
			tables: { ...payload.tables, User: [{ ...users[0], evil: 'x' }] }
		};
		await expectRefused(
			b,
			{ file: upload(gzipSync(JSON.stringify(unknownColumn))) },
			400,
			/column this version does not know/
		);
	});

	test('path-traversal names are refused for restore, delete and download', async () => {
		const { b } = await setup();
		fs.writeFileSync(path.join(configDir, 'outside.json.gz'), gzipSync('{}'));
		for (const name of ['../../etc/passwd', '../outside.json.gz', '/etc/passwd', 'x/../../y']) {
			await expectRefused(b, { name }, 400, /No such backup/);
			const before = backupFiles();
			const del = await b.post('/settings/backups?/delete', { name });
			expect(del.status).toBe(404);
			expect(backupFiles()).toEqual(before);
			const dl = await b.get(`/settings/backups/download/${encodeURIComponent(name)}`);
			expect(dl.status).toBe(404);
		}
		expect(fs.existsSync(path.join(configDir, 'outside.json.gz'))).toBe(true);
	});

	test('an upload over 50 MB is refused', async () => {
		const { b, plainBytes } = await setup();
		const big = Buffer.concat([plainBytes, Buffer.alloc(51 * 1024 * 1024)]);
		await expectRefused(b, { file: upload(big) }, 413, /larger than 50 MB/);
	});

	test('without the confirmation box, or signed out, nothing happens', async () => {
		const { b, enc } = await setup();
		await expectRefused(b, { name: enc, passphrase: PASSPHRASE, confirm: '' }, 400, /Tick the box/);
		const before = await dumpAll();
		const res = await postMultipart(browser(app.url), '/settings/backups?/restore', {
			name: enc,
			passphrase: PASSPHRASE,
			confirm: 'on'
		});
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toMatch(/^\/login/);
		expect(await dumpAll()).toEqual(before);
	});
});

describe('files', () => {
	test('retention keeps exactly the newest N, in the folder and in the list', async () => {
		await insertAdmin(app.sql);
		const b = await signedIn();
		const saved = await b.post('/settings/backups?/schedule', {
			schedule: 'off',
			cron: '',
			retention: '3',
			passphrase: ''
		});
		expect(saved.status).toBe(200);
		const names: string[] = [];
		for (let i = 0; i < 6; i++) names.push(await createBackup(b));
		expect(backupFiles()).toEqual(names.slice(-3).sort());
		const html = await (await b.get('/settings/backups')).text();
		const listed = [...html.matchAll(/data-backup="([^"]+)"/g)].map((m) => m[1]);
		expect(listed).toEqual(names.slice(-3).reverse());
		// and lowering it removes more at once
		await b.post('/settings/backups?/schedule', { schedule: 'off', retention: '1', cron: '' });
		expect(backupFiles()).toEqual([names[5]]);
	});

	test('download gives the exact file; delete removes it; no temporary files are left', async () => {
		await insertAdmin(app.sql);
		const b = await signedIn();
		const name = await createBackup(b, PASSPHRASE);
		const res = await b.get(`/settings/backups/download/${name}`);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${name}"`);
		expect(Buffer.from(await res.arrayBuffer())).toEqual(
			fs.readFileSync(path.join(backupsDir, name))
		);
		expect(backupFiles()).toEqual([name]);
		expect(fs.statSync(path.join(backupsDir, name)).mode & 0o777).toBe(0o600);
		const signedOut = await browser(app.url).get(`/settings/backups/download/${name}`);
		expect(signedOut.status).toBe(303);
		const del = await b.post('/settings/backups?/delete', { name });
		expect(del.status).toBe(200);
		expect(backupFiles()).toEqual([]);
	});

	test('the schedule form validates cron expressions and stores the passphrase sealed', async () => {
		await insertAdmin(app.sql);
		const b = await signedIn();
		const bad = await b.post('/settings/backups?/schedule', {
			schedule: 'cron',
			cron: 'every tuesday',
			retention: '5',
			passphrase: ''
		});
		expect(bad.status).toBe(400);
		expect(await bad.text()).toMatch(/valid cron expression/);
		const ok = await b.post('/settings/backups?/schedule', {
			schedule: 'cron',
			cron: '0 4 * * *',
			retention: '5',
			passphrase: PASSPHRASE
		});
		expect(ok.status).toBe(200);
		const [row] = await app.sql`select * from "AppSettings"`;
		expect(row).toMatchObject({
			backupSchedule: 'cron',
			backupCron: '0 4 * * *',
			backupRetention: 5
		});
		expect(row.backupPassphrase).not.toContain(PASSPHRASE);
		expect(open(row.backupPassphrase, key)).toBe(PASSPHRASE);
		// a backup made with the saved passphrase is encrypted, and the passphrase is not in it
		const name = await createBackup(b);
		expect(name.endsWith('.enc')).toBe(true);
		const bytes = fs.readFileSync(path.join(backupsDir, name));
		const payload = await decodeBackup(bytes, PASSPHRASE);
		expect(payload.tables.AppSettings[0].backupPassphrase).toBeNull();
		expect(JSON.stringify(payload)).not.toContain(PASSPHRASE);
		expect(JSON.stringify(payload)).not.toContain(row.backupPassphrase);
	});
});

describe('first-run restore page', () => {
	test('shown only while no user exists, lists only names, and refuses once a user exists', async () => {
		await insertAdmin(app.sql);
		const b = await signedIn();
		const name = await createBackup(b);
		const bytes = fs.readFileSync(path.join(backupsDir, name));
		await app.sql`delete from "User"`;

		const anon = browser(app.url);
		const setup = await anon.get('/setup');
		expect(await setup.text()).toContain('Restore from Backup');
		const page = await anon.get('/setup/restore');
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain(`<option value="${name}">${name}</option>`);
		expect(html).not.toMatch(/\d+\.\d (KB|MB)|\d+ B\b|Last backup/);
		expect(html).not.toMatch(/Encrypted|Download|Delete/);

		await insertAdmin(app.sql);
		expect(await (await anon.get('/setup')).text()).not.toContain('Restore from Backup');
		const gone = await anon.get('/setup/restore');
		expect(gone.status).toBe(303);
		expect(gone.headers.get('location')).toBe('/login');
		const before = await dumpAll();
		const res = await postMultipart(anon, '/setup/restore', {
			file: { bytes, filename: name },
			passphrase: ''
		});
		// refused: the action answers 403 and, without JavaScript, the page then sends to /login
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/login');
		const enhanced = await fetch(`${app.url}/setup/restore`, {
			method: 'POST',
			headers: { origin: app.url, 'x-sveltekit-action': 'true', accept: 'application/json' },
			body: (() => {
				const f = new FormData();
				f.append('file', new Blob([new Uint8Array(bytes)]), name);
				return f;
			})()
		});
		expect(await enhanced.json()).toMatchObject({ type: 'failure', status: 403 });
		expect(await dumpAll()).toEqual(before);
	});
});
