// The recovery script builds the rule's inputs on its own (it is copied alone into a container
// and cannot load the app's loader). Here both read the same seeded databases: what
// `reset-auth.js status` says the login page offers must be what the app's loader
// (rule/inputs.ts) and the rule say, case by case — a password without a local username, a
// multi-tenant SSO link, passkeys made under another host, the override, forward auth.
import { spawn } from 'node:child_process';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { readEnvironment } from '../../src/lib/server/plain/env.js';
import { everyoneAccount, loadRuleInputs, offered } from '../../src/lib/server/rule/inputs';
import { createTestDatabase } from '../helpers/pg.js';

const SCRIPT = path.join(process.cwd(), 'scripts', 'reset-auth.js');
const COMMON = 'https://login.microsoftonline.com/common/v2.0';
const TENANT = 'https://login.microsoftonline.com/0b5e1f7a-1111-4222-8333-944455556666/v2.0';

let db: { url: string };
let sql: postgres.Sql;
beforeAll(async () => {
	db = await createTestDatabase(inject('pg'));
	sql = postgres(db.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
	await sql?.end();
});

type Env = { ORIGIN?: string; TRUSTED_PROXIES?: string; SSO_DISABLE_OVERRIDE?: string };

function status(env: Env): Promise<string> {
	const clean: NodeJS.ProcessEnv = { ...process.env };
	for (const k of ['TEST_DATABASE_URL', 'ORIGIN', 'TRUSTED_PROXIES', 'SSO_DISABLE_OVERRIDE'])
		delete clean[k];
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [SCRIPT, 'status'], {
			env: { ...clean, ...env, DATABASE_URL: db.url },
			stdio: ['ignore', 'pipe', 'pipe']
		});
		let out = '';
		let err = '';
		child.stdout.on('data', (d) => (out += d));
		child.stderr.on('data', (d) => (err += d));
		child.on('error', reject);
		child.on('close', (code) =>
			code === 0 ? resolve(out) : reject(new Error(`status exited ${code}: ${err}`))
		);
	});
}

/** "Ways in right now", as the script words it, back in the rule's terms. */
function scriptSays(text: string) {
	const ways = text.slice(text.indexOf('Ways in right now'));
	const line = (name: string) => ways.split('\n').find((l) => l.startsWith(`  - ${name}`)) ?? '';
	const sso = line('SSO');
	return {
		local: line('Username and password').startsWith('  - Username and password, as'),
		plex: line('Plex').startsWith('  - Plex, as'),
		sso:
			sso.startsWith('  - SSO: yes') || sso.includes('switched on, but nobody')
				? 'enabled'
				: sso.includes('only reports the subject')
					? 'probe'
					: 'off',
		passkey: line('Passkey').startsWith('  - Passkey, as'),
		// Whether anyone is linked for the saved mode and issuer (said only while SSO is on).
		linked: sso.startsWith('  - SSO: yes')
			? true
			: sso.includes('switched on, but nobody')
				? false
				: null
	};
}

/** The same, from the app's loader and the rule, for the environment `env` describes. */
async function appSays(env: Env) {
	const { settings } = readEnvironment({ ...env, DATABASE_URL: db.url });
	if (!settings) throw new Error('the case has an invalid environment');
	const rpId = new URL(env.ORIGIN ?? 'http://localhost:3000').hostname;
	const inputs = {
		...(await loadRuleInputs(sql, { rpId })),
		env: {
			override: settings.ssoDisableOverride,
			trustedProxies: settings.trustedProxies.length > 0
		}
	};
	const ways = offered(inputs);
	const linked = ways.sso === 'enabled' ? everyoneAccount(inputs).ssoLinked : null;
	return { ...ways, linked };
}

type Case = {
	name: string;
	settings?: Record<string, unknown>;
	users: Record<string, unknown>[];
	/** rpIds of passkeys of the first user. */
	passkeys?: string[];
	env?: Env;
};

const ADMIN = { username: 'Ada', localUsername: 'ada', passwordHash: '$argon2id$stand-in' };
const OIDC = { ssoMode: 'OIDC', oidcIssuer: COMMON, oidcClientId: 'lib' };

const CASES: Case[] = [
	{ name: 'an admin with a password', users: [ADMIN] },
	{
		name: 'a password without a local username (the form asks for one)',
		users: [{ ...ADMIN, localUsername: null }]
	},
	{
		name: 'a multi-tenant issuer, SSO off, the admin linked with their tenant (no probe)',
		settings: OIDC,
		users: [{ ...ADMIN, ssoProvider: 'oidc', ssoIssuer: TENANT, ssoSubject: 'ada' }]
	},
	{
		name: 'a multi-tenant issuer, SSO on, the admin linked with their tenant',
		settings: { ...OIDC, ssoEnabled: true },
		users: [{ ...ADMIN, ssoProvider: 'oidc', ssoIssuer: TENANT, ssoSubject: 'ada' }]
	},
	{
		name: 'an issuer saved with a trailing slash, SSO off, nobody linked (the probe)',
		settings: { ...OIDC, oidcIssuer: 'https://idp.example.com/' },
		users: [
			{ ...ADMIN, ssoProvider: 'oidc', ssoIssuer: 'https://other.example.com', ssoSubject: 'a' }
		]
	},
	{
		name: 'passkeys made under another host only',
		settings: { passkeyLoginEnabled: true },
		users: [ADMIN],
		passkeys: ['old.example.com'],
		env: { ORIGIN: 'https://librariarr.example.com' }
	},
	{
		name: 'a passkey made under the public host',
		settings: { passkeyLoginEnabled: true, localAuthEnabled: false },
		users: [ADMIN],
		passkeys: ['old.example.com', 'librariarr.example.com'],
		env: { ORIGIN: 'https://librariarr.example.com' }
	},
	{
		name: 'the override, with SSO on and local and Plex sign-in off',
		settings: { ...OIDC, ssoEnabled: true, localAuthEnabled: false, plexLoginEnabled: false },
		users: [{ ...ADMIN, plexId: '42', ssoProvider: 'oidc', ssoIssuer: TENANT, ssoSubject: 'ada' }],
		env: { SSO_DISABLE_OVERRIDE: 'yes' }
	},
	{
		name: 'forward auth on, a second user linked through the proxy, Plex linked but off',
		settings: { ssoMode: 'FORWARD_AUTH', ssoEnabled: true, plexLoginEnabled: false },
		users: [
			{ ...ADMIN, plexId: '42' },
			{ username: 'Bob', ssoProvider: 'forward-auth', ssoIssuer: 'forward-auth', ssoSubject: 'bob' }
		],
		env: { TRUSTED_PROXIES: '10.0.0.2' }
	},
	{ name: 'nobody at all', users: [] }
];

async function seed(c: Case) {
	await sql`delete from "User"`;
	await sql`
		update "AppSettings" set "localAuthEnabled" = true, "plexLoginEnabled" = false,
			"ssoEnabled" = false, "ssoMode" = 'OIDC', "oidcIssuer" = null, "oidcClientId" = null,
			"passkeyLoginEnabled" = false
	`;
	if (c.settings) await sql`update "AppSettings" set ${sql(c.settings)} where id = 1`;
	for (const [i, user] of c.users.entries()) {
		const [{ id }] = await sql<{ id: number }[]>`insert into "User" ${sql(user)} returning id`;
		if (i > 0) continue;
		for (const [n, rpId] of (c.passkeys ?? []).entries()) {
			await sql`
				insert into "Passkey" ("userId", "credentialId", "publicKey", "rpId", name)
				values (${id}, ${`cred-${n}`}, ${Buffer.from([n])}, ${rpId}, ${`Key ${n}`})
			`;
		}
	}
}

describe('reset-auth.js status and the app read the same inputs', () => {
	for (const c of CASES) {
		test(c.name, async () => {
			await seed(c);
			const env = c.env ?? {};
			expect(scriptSays(await status(env))).toEqual(await appSays(env));
		});
	}
});
