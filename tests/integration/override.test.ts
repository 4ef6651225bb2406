import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, freshDatabase, insertAdmin } from '../helpers/app';
import { startServer } from '../helpers/server.js';

// SSO_DISABLE_OVERRIDE, started for real with each spelling the README promises (and some it
// does not), against one database whose stored configuration must come out untouched.
let db: Awaited<ReturnType<typeof freshDatabase>>;
const SECRET_KEY = 'override-test';

beforeAll(async () => {
	db = await freshDatabase();
	const id = await insertAdmin(db.sql);
	await db.sql`
		update "User" set "plexId" = '1001', "plexUsername" = 'alice', "ssoProvider" = 'oidc',
			"ssoIssuer" = 'https://auth.example.com', "ssoSubject" = 'alice'
		where id = ${id}
	`;
	await db.sql`
		update "AppSettings" set "ssoEnabled" = true, "ssoMode" = 'OIDC', "oidcIssuer" = 'https://auth.example.com',
			"oidcClientId" = 'librariarr', "localAuthEnabled" = false, "plexLoginEnabled" = false,
			"previousSsoConfig" = ${db.sql.json({ oidcIssuer: 'https://old.example.com' })}
	`;
});
afterAll(() => db?.sql.end());

async function storedConfig() {
	const [row] = await db.sql`select row_to_json(s)::text as json from "AppSettings" s`;
	const users = await db.sql`select row_to_json(u)::text as json from "User" u`;
	return row.json + users.map((u) => u.json).join();
}

async function withServer<T>(override: string | undefined, run: (url: string) => Promise<T>) {
	const server = await startServer({
		databaseUrl: db.url,
		env: { SECRET_KEY, SSO_DISABLE_OVERRIDE: override }
	});
	try {
		return await run(server.url);
	} finally {
		await server.stop();
	}
}

describe('SSO_DISABLE_OVERRIDE', () => {
	test.each(['true', 'TRUE', '1', 'yes', ' Yes ', '\tyes\n'])(
		'%j turns SSO off everywhere and brings the other methods back',
		async (spelling) => {
			const before = await storedConfig();
			await withServer(spelling, async (url) => {
				const login = await (await browser(url).get('/login')).text();
				expect(login).not.toContain('Sign in with SSO');
				expect(login).toContain('id="password"'); // a password exists, though "Enable Local Login" is off
				expect(login).toContain('Sign in with Plex'); // Plex is linked, though "Allow Plex Login" is off
				expect(login).toContain('data-testid="override-note"');
				const sso = await browser(url).get('/api/auth/sso/oidc/login');
				expect(sso.headers.get('location')).toBe('/login?sso_error=sso_not_configured');
				const b = browser(url);
				expect((await b.signIn()).status).toBe(303);
				const settings = await (await b.get('/settings/authentication')).text();
				expect(settings).toContain('SSO disabled by environment override');
			});
			// Nothing stored was touched. (Signing in writes a session and an audit row, not settings.)
			expect(await storedConfig()).toBe(before);
		}
	);

	test.each([undefined, '', 'false', '0', 'no', 'on', 'enabled', 'yes please'])(
		'%j leaves SSO as configured',
		async (spelling) => {
			await withServer(spelling, async (url) => {
				const login = await (await browser(url).get('/login')).text();
				expect(login).toContain('Sign in with SSO');
				expect(login).not.toContain('id="password"');
				expect(login).not.toContain('Sign in with Plex');
				expect(login).not.toContain('override-note');
			});
		}
	);

	test('after a restart without it, the stored configuration is byte-for-byte what it was', async () => {
		const before = await storedConfig();
		await withServer('yes', async (url) => {
			const b = browser(url);
			await b.signIn();
			await b.get('/settings/authentication');
		});
		await withServer(undefined, async (url) => {
			expect(await (await browser(url).get('/login')).text()).toContain('Sign in with SSO');
		});
		expect(await storedConfig()).toBe(before);
	});

	test('enabling SSO is refused while the override is on', async () => {
		await withServer('1', async (url) => {
			const b = browser(url);
			await b.signIn();
			const res = await b.post('/settings/authentication?/saveSso', { ssoEnabled: 'on' });
			expect(res.status).toBe(409);
			expect(await res.text()).toContain('SSO_DISABLE_OVERRIDE is set');
		});
	});
});
