import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sessionIdFromToken } from '../../src/lib/server/auth/session';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

// A property test over random sequences of settings actions, sent as a browser would to the built
// server: whatever the admin clicks, in whatever order, they keep a working way in. "Working"
// is judged the way the login page offers it: the local form (enabled, a password, SSO not on),
// the Plex button (enabled, linked), or SSO (on, with an identity linked for the current mode
// and issuer).

const ISSUER_A = 'https://a.example.com';
const ISSUER_B = 'https://b.example.com/realms/home';

let app: App;
beforeAll(async () => {
	app = await startApp({ SECRET_KEY: 'property' });
});
afterAll(() => app?.stop());

type Action =
	| { kind: 'toggleLocal'; on: boolean }
	| { kind: 'togglePlex'; on: boolean }
	| { kind: 'linkManual'; subject: string }
	| { kind: 'unlink' }
	| { kind: 'saveSso'; on: boolean }
	| { kind: 'connection'; mode: 'OIDC' | 'FORWARD_AUTH'; issuer: string }
	| { kind: 'revert' };

const action: fc.Arbitrary<Action> = fc.oneof(
	fc.record({ kind: fc.constant('toggleLocal' as const), on: fc.boolean() }),
	fc.record({ kind: fc.constant('togglePlex' as const), on: fc.boolean() }),
	fc.record({ kind: fc.constant('linkManual' as const), subject: fc.constant('alice') }),
	fc.record({ kind: fc.constant('unlink' as const) }),
	fc.record({ kind: fc.constant('saveSso' as const), on: fc.boolean() }),
	fc.record({
		kind: fc.constant('connection' as const),
		mode: fc.constantFrom('OIDC' as const, 'FORWARD_AUTH' as const),
		issuer: fc.constantFrom(ISSUER_A, ISSUER_B)
	}),
	fc.record({ kind: fc.constant('revert' as const) })
);

// Any starting point that has a working way in: credentials, toggles, and SSO possibly on already.
const start = fc
	.record({
		password: fc.boolean(),
		plex: fc.boolean(),
		localOn: fc.boolean(),
		plexOn: fc.boolean(),
		sso: fc.boolean(),
		snapshot: fc.boolean()
	})
	.filter((s) => s.sso || (s.localOn && s.password) || (s.plexOn && s.plex));

type Start = typeof start extends fc.Arbitrary<infer T> ? T : never;

async function prepare(s: Start) {
	await app.sql`delete from "User"`;
	const snapshot = s.snapshot ? app.sql.json({ oidcIssuer: ISSUER_B, oidcClientId: 'old' }) : null;
	await app.sql`
		update "AppSettings" set "localAuthEnabled" = ${s.localOn}, "plexLoginEnabled" = ${s.plexOn},
			"ssoEnabled" = ${s.sso}, "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER_A}, "oidcClientId" = 'lib',
			"previousSsoConfig" = ${snapshot}
	`;
	const id = await insertAdmin(app.sql);
	await app.sql`
		update "User" set "passwordHash" = case when ${s.password} then "passwordHash" end,
			"plexId" = case when ${s.plex} then '1001' end,
			"ssoProvider" = case when ${s.sso} then 'oidc' end,
			"ssoIssuer" = case when ${s.sso} then ${ISSUER_A} end,
			"ssoSubject" = case when ${s.sso} then 'alice' end
		where id = ${id}
	`;
	// Signed in already (how is beside the point here): a session row for a known token.
	const token = 'propertytestsessiontokenaaaaaaaa'.slice(0, 32).replace(/[^a-z2-7]/g, 'a');
	await app.sql`
		insert into "Session" (id, "userId", "sessionVersion", method, "expiresAt")
		values (${sessionIdFromToken(token)}, ${id}, 1, 'local', now() + interval '1 day')
	`;
	const b = browser(app.url);
	b.jar.set('librariarr_session', token);
	return b;
}

function connectionForm(mode: string, issuer: string) {
	return {
		ssoMode: mode,
		oidcIssuer: issuer,
		oidcClientId: 'lib',
		oidcClientSecret: '',
		oidcScopes: 'openid profile email',
		oidcUsernameClaim: 'preferred_username',
		forwardAuthUserHeader: 'Remote-User',
		forwardAuthEmailHeader: 'Remote-Email',
		forwardAuthNameHeader: 'Remote-Name'
	};
}

async function perform(b: ReturnType<typeof browser>, a: Action) {
	const path = '/settings/authentication?/';
	switch (a.kind) {
		case 'toggleLocal':
			return b.post(path + 'toggleLocal', { enabled: String(a.on) });
		case 'togglePlex':
			return b.post(path + 'togglePlex', { enabled: String(a.on) });
		case 'linkManual':
			return b.post(path + 'linkManual', { subject: a.subject });
		case 'unlink':
			return b.post(path + 'unlink', {});
		case 'saveSso':
			return b.post(path + 'saveSso', a.on ? { ssoEnabled: 'on' } : {});
		case 'connection':
			return b.post(path + 'saveConnection', connectionForm(a.mode, a.issuer));
		case 'revert':
			return b.post(path + 'revert', {});
	}
}

async function waysIn() {
	const [row] = await app.sql`
		select s."localAuthEnabled", s."plexLoginEnabled", s."ssoEnabled", s."ssoMode", s."oidcIssuer",
			u."passwordHash" is not null as "hasPassword", u."plexId" is not null as "hasPlex",
			u."ssoProvider", u."ssoIssuer", u."ssoSubject"
		from "AppSettings" s, "User" u
	`;
	const trim = (x: string | null) => x?.replace(/\/+$/, '');
	const fits =
		row.ssoSubject !== null &&
		(row.ssoMode === 'FORWARD_AUTH'
			? row.ssoProvider === 'forward-auth'
			: row.ssoProvider === 'oidc' && trim(row.ssoIssuer) === trim(row.oidcIssuer));
	const ways: string[] = [];
	if (row.localAuthEnabled && row.hasPassword && !row.ssoEnabled) ways.push('local');
	if (row.plexLoginEnabled && row.hasPlex) ways.push('plex');
	if (row.ssoEnabled && fits) ways.push('sso');
	return { ways, row };
}

describe('nobody locks themselves out', () => {
	test('any sequence of settings actions leaves a working way in', async () => {
		await fc.assert(
			fc.asyncProperty(
				start,
				fc.array(action, { minLength: 1, maxLength: 6 }),
				async (s, actions) => {
					const b = await prepare(s);
					expect((await waysIn()).ways.length).toBeGreaterThan(0);
					for (const a of actions) {
						const res = await perform(b, a);
						expect([200, 400, 409], `${a.kind} answered ${res.status}`).toContain(res.status);
						const { ways, row } = await waysIn();
						expect(
							ways,
							`after ${JSON.stringify(a)} in ${JSON.stringify(actions)}: ${JSON.stringify(row)}`
						).not.toHaveLength(0);
					}
				}
			),
			{ numRuns: 60, seed: Number(process.env.PROPERTY_SEED) || undefined }
		);
	}, 180_000);
});
