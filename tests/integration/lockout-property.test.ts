import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sessionIdFromToken } from '../../src/lib/server/auth/session';
import { waysInFor } from '../../src/lib/server/rule/ways-in';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { startServer } from '../helpers/server.js';
import { softAuthenticator } from '../helpers/soft-authenticator';

// A property test over random sequences of settings actions, sent as a browser would to the built
// server: whatever the admin clicks, in whatever order, they keep a working way in (safety), and
// every refusal is needed (liveness): the action would have left no way in, as the oracle
// computes from the state before it, or a precondition the page states does not hold. "Working"
// is what the one rule (src/lib/server/rule/ways-in) says can sign the admin in: the local
// form (enabled, a password, SSO not on), the Plex button (enabled, linked), or SSO (on, with an
// identity linked for the current mode and issuer; for forward auth, also a trusted proxy that
// names the linked user), or a passkey (passkey sign-in allowed, one registered).
//
// Passkeys are registered through the real endpoints (Settings → Security → Add a passkey) with
// a software authenticator, deleted and switched through the real form actions; the test counts
// how often each was accepted and refused, so that a run that never reached the new way in fails.
//
// Forward auth: each run is one deployment, with TRUSTED_PROXIES empty (every request reaches
// the app untrusted) or with the proxy trusted. Through the proxy, the admin is who the auth
// server says (alice or bob, per run); a request may carry that name, none (a bypass rule), or
// reach the app directly, around the proxy. Two instances on one database play this: `proxied`
// trusts loopback (the test is the proxy), `direct` trusts nobody.

const ISSUER_A = 'https://a.example.com';
const ISSUER_B = 'https://b.example.com/realms/home';

let app: App;
let direct: Awaited<ReturnType<typeof startServer>>;
beforeAll(async () => {
	app = await startApp({ SECRET_KEY: 'property', TRUSTED_PROXIES: '127.0.0.1/32,::1/128' });
	direct = await startServer({
		databaseUrl: app.databaseUrl,
		env: { SECRET_KEY: 'property', TRUSTED_PROXIES: '' }
	});
});
afterAll(async () => {
	await direct?.stop();
	await app?.stop();
});

/** How a request reaches the app: through the proxy with the admin's name or none, or around it. */
type Via = 'proxy' | 'proxy-no-user' | 'direct';

type Action =
	| { kind: 'toggleLocal'; on: boolean }
	| { kind: 'togglePlex'; on: boolean }
	| { kind: 'linkManual' }
	| { kind: 'unlink' }
	| { kind: 'saveSso'; on: boolean; via: Via }
	| { kind: 'linkFromRequest'; via: Via }
	| { kind: 'connection'; mode: 'OIDC' | 'FORWARD_AUTH'; issuer: string }
	| { kind: 'revert' }
	| { kind: 'registerPasskey' }
	| { kind: 'deletePasskey' }
	| { kind: 'passkeyLogin'; on: boolean };

const via = fc.constantFrom<Via>('proxy', 'proxy-no-user', 'direct');

const action: fc.Arbitrary<Action> = fc.oneof(
	fc.record({ kind: fc.constant('toggleLocal' as const), on: fc.boolean() }),
	fc.record({ kind: fc.constant('togglePlex' as const), on: fc.boolean() }),
	fc.record({ kind: fc.constant('linkManual' as const) }),
	fc.record({ kind: fc.constant('unlink' as const) }),
	// Switching SSO is where lock-outs happen: drawn twice as often as the other actions.
	{
		arbitrary: fc.record({ kind: fc.constant('saveSso' as const), on: fc.boolean(), via }),
		weight: 2
	},
	fc.record({ kind: fc.constant('linkFromRequest' as const), via }),
	fc.record({
		kind: fc.constant('connection' as const),
		mode: fc.constantFrom('OIDC' as const, 'FORWARD_AUTH' as const),
		issuer: fc.constantFrom(ISSUER_A, ISSUER_B)
	}),
	fc.record({ kind: fc.constant('revert' as const) }),
	fc.record({ kind: fc.constant('registerPasskey' as const) }),
	fc.record({ kind: fc.constant('deletePasskey' as const) }),
	fc.record({ kind: fc.constant('passkeyLogin' as const), on: fc.boolean() })
);

// Any starting point that has a working way in: credentials, toggles, an identity linked for the
// starting SSO mode or none, and SSO possibly on already (only where it works).
const start = fc
	.record({
		password: fc.boolean(),
		plex: fc.boolean(),
		localOn: fc.boolean(),
		plexOn: fc.boolean(),
		mode: fc.constantFrom('OIDC' as const, 'FORWARD_AUTH' as const),
		linked: fc.boolean(),
		sso: fc.boolean(),
		snapshot: fc.boolean(),
		/** TRUSTED_PROXIES names the proxy (else it is empty). */
		trustedProxy: fc.boolean(),
		/** Who the auth server behind the proxy says the admin is. */
		proxyUser: fc.constantFrom('alice', 'bob'),
		/** "Allow passkey sign-in", and whether a passkey is registered before the first action. */
		passkeyOn: fc.boolean(),
		passkey: fc.boolean()
	})
	.filter((s) => !s.sso || (s.linked && (s.mode === 'OIDC' || s.trustedProxy)))
	.filter(
		(s) => s.sso || (s.localOn && s.password) || (s.plexOn && s.plex) || (s.passkeyOn && s.passkey)
	);

type Start = typeof start extends fc.Arbitrary<infer T> ? T : never;

async function prepare(s: Start) {
	await app.sql`delete from "User"`;
	const snapshot = s.snapshot ? app.sql.json({ oidcIssuer: ISSUER_B, oidcClientId: 'old' }) : null;
	await app.sql`
		update "AppSettings" set "localAuthEnabled" = ${s.localOn}, "plexLoginEnabled" = ${s.plexOn},
			"ssoEnabled" = ${s.sso}, "ssoMode" = ${s.mode}, "oidcIssuer" = ${ISSUER_A}, "oidcClientId" = 'lib',
			"previousSsoConfig" = ${snapshot}, "passkeyLoginEnabled" = ${s.passkeyOn}
	`;
	const id = await insertAdmin(app.sql);
	const forward = s.mode === 'FORWARD_AUTH';
	const link = s.linked
		? forward
			? { provider: 'forward-auth', issuer: 'forward-auth', subject: s.proxyUser }
			: { provider: 'oidc', issuer: ISSUER_A, subject: 'alice' }
		: { provider: null, issuer: null, subject: null };
	await app.sql`
		update "User" set "passwordHash" = case when ${s.password} then "passwordHash" end,
			"plexId" = case when ${s.plex} then '1001' end,
			"ssoProvider" = ${link.provider}, "ssoIssuer" = ${link.issuer}, "ssoSubject" = ${link.subject}
		where id = ${id}
	`;
	// Signed in already (how is beside the point here): a session row for a known token.
	const token = 'propertytestsessiontokenaaaaaaaa'.slice(0, 32).replace(/[^a-z2-7]/g, 'a');
	await app.sql`
		insert into "Session" (id, "userId", "sessionVersion", method, "expiresAt")
		values (${sessionIdFromToken(token)}, ${id}, 1, 'local', now() + interval '1 day')
	`;
	const proxied = browser(app.url);
	const straight = browser(direct.url);
	proxied.jar.set('librariarr_session', token);
	straight.jar.set('librariarr_session', token);
	const bs = { proxied, straight };
	if (s.passkey) expect((await registerPasskey(s, bs)).status).toBe(200);
	return bs;
}

type Browsers = { proxied: Browser; straight: Browser };
type Browser = ReturnType<typeof browser>;

/** The browser, its origin and headers for a request of this run that goes `v`. */
function route(
	s: Start,
	bs: Browsers,
	v: Via
): { b: Browser; origin: string; headers: Record<string, string> } {
	if (!s.trustedProxy || v === 'direct') return { b: bs.straight, origin: direct.url, headers: {} };
	const headers: Record<string, string> = v === 'proxy' ? { 'remote-user': s.proxyUser } : {};
	return { b: bs.proxied, origin: app.url, headers };
}

/**
 * Adds a passkey as the browser would: options (the session is fresh, so no password is asked
 * for), the software authenticator's answer, then the register endpoint.
 */
async function registerPasskey(s: Start, bs: Browsers) {
	const { b, origin, headers } = route(s, bs, 'proxy');
	const options = await b.post('/settings/security/passkeys/options', {}, { headers });
	if (options.status !== 200) return options;
	const { challenge } = (await options.json()) as { challenge: string };
	const answer = softAuthenticator().register({
		challenge,
		origin,
		rpId: new URL(origin).hostname
	});
	return b.post(
		'/settings/security/passkeys/register',
		{ name: 'Key', response: JSON.stringify(answer) },
		{ headers }
	);
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

async function perform(s: Start, bs: Browsers, a: Action) {
	const path = '/settings/authentication?/';
	// Settings clicks other than the two below go the run's usual way: through its proxy, if any.
	const { b, headers } = route(s, bs, 'proxy');
	const usual = { headers };
	switch (a.kind) {
		case 'toggleLocal':
			return b.post(path + 'toggleLocal', { enabled: String(a.on) }, usual);
		case 'togglePlex':
			return b.post(path + 'togglePlex', { enabled: String(a.on) }, usual);
		case 'linkManual':
			// The admin pastes their own subject (what the proxy names them; for OIDC any will do).
			return b.post(path + 'linkManual', { subject: s.proxyUser }, usual);
		case 'unlink':
			return b.post(path + 'unlink', {}, usual);
		case 'saveSso': {
			const r = route(s, bs, a.via);
			return r.b.post(path + 'saveSso', a.on ? { ssoEnabled: 'on' } : {}, { headers: r.headers });
		}
		case 'linkFromRequest': {
			const r = route(s, bs, a.via);
			return r.b.post(path + 'linkFromRequest', {}, { headers: r.headers });
		}
		case 'connection':
			return b.post(path + 'saveConnection', connectionForm(a.mode, a.issuer), usual);
		case 'revert':
			return b.post(path + 'revert', {}, usual);
		case 'registerPasskey':
			return registerPasskey(s, bs);
		case 'deletePasskey': {
			// The oldest passkey, or (with none) one that is not there: a 404.
			const [row] = await app.sql`select id from "Passkey" order by id limit 1`;
			const passkey = String(row?.id ?? 2_000_000_000);
			return b.post('/settings/security?/deletePasskey', { passkey }, usual);
		}
		case 'passkeyLogin':
			return b.post('/settings/security?/togglePasskeyLogin', { enabled: String(a.on) }, usual);
	}
}

/** What the database holds that the oracle reads. */
type Row = {
	localAuthEnabled: boolean;
	plexLoginEnabled: boolean;
	ssoEnabled: boolean;
	ssoMode: 'OIDC' | 'FORWARD_AUTH';
	oidcIssuer: string | null;
	oidcClientId: string | null;
	hasSnapshot: boolean;
	hasPassword: boolean;
	hasPlex: boolean;
	ssoProvider: string | null;
	ssoIssuer: string | null;
	ssoSubject: string | null;
	passkeyLoginEnabled: boolean;
	passkeys: number;
};

async function readRow(): Promise<Row> {
	const rpId = new URL(app.url).hostname;
	const [row] = await app.sql<Row[]>`
		select s."localAuthEnabled", s."plexLoginEnabled", s."ssoEnabled", s."ssoMode", s."oidcIssuer",
			s."oidcClientId", s."previousSsoConfig" is not null as "hasSnapshot",
			u."passwordHash" is not null and u."localUsername" is not null as "hasPassword",
			u."plexId" is not null as "hasPlex", u."ssoProvider", u."ssoIssuer", u."ssoSubject",
			s."passkeyLoginEnabled",
			-- Only a passkey made for this host signs in here (both instances share 127.0.0.1).
			(select count(*)::int from "Passkey" p where p."userId" = u.id and p."rpId" = ${rpId}) as passkeys
		from "AppSettings" s, "User" u
	`;
	return row;
}

const trim = (x: string | null) => x?.replace(/\/+$/, '');

/** The stored link belongs to the saved mode and issuer (what the app checks before switching). */
function linkFits(row: Row) {
	if (row.ssoSubject === null) return false;
	return row.ssoMode === 'FORWARD_AUTH'
		? row.ssoProvider === 'forward-auth' && row.ssoIssuer === 'forward-auth'
		: row.ssoProvider === 'oidc' && trim(row.ssoIssuer) === trim(row.oidcIssuer);
}

/**
 * The oracle: the one rule (rule/ways-in.ts) applied to `row`, written here from the stored
 * columns and not through the app's loader (rule/inputs.ts), so that a loader that reads an
 * input wrongly disagrees with it.
 */
function waysOf(s: Start, row: Row) {
	// Linked for the current mode: for forward auth, the proxy of this deployment names the
	// linked user (whether that proxy is trusted is the environment's part, below).
	const fits = linkFits(row) && (row.ssoMode === 'OIDC' || row.ssoSubject === s.proxyUser);
	return waysInFor(
		{
			localAuthEnabled: row.localAuthEnabled,
			plexLoginEnabled: row.plexLoginEnabled,
			ssoEnabled: row.ssoEnabled,
			ssoMode: row.ssoMode,
			ssoConfigured: row.ssoMode === 'FORWARD_AUTH' || Boolean(row.oidcIssuer && row.oidcClientId),
			passkeyLoginEnabled: row.passkeyLoginEnabled
		},
		{ hasPassword: row.hasPassword, hasPlex: row.hasPlex, ssoLinked: fits, passkeys: row.passkeys },
		{ override: false, trustedProxies: s.trustedProxy }
	);
}

async function waysIn(s: Start) {
	const row = await readRow();
	return { ways: waysOf(s, row), row };
}

/** SSO goes off; the password form and the Plex button come back (the app turns on what works). */
const ssoOff = (row: Row): Row =>
	row.ssoEnabled
		? { ...row, ssoEnabled: false, localAuthEnabled: true, plexLoginEnabled: true }
		: row;

/** What `a` would leave in the database, had the server taken it. */
function wouldLeave(s: Start, a: Action, row: Row): Row {
	const relink = (provider: string, issuer: string | null, subject: string) => ({
		...row,
		ssoProvider: provider,
		ssoIssuer: issuer,
		ssoSubject: subject
	});
	switch (a.kind) {
		case 'toggleLocal':
			return { ...row, localAuthEnabled: a.on };
		case 'togglePlex':
			return { ...row, plexLoginEnabled: a.on };
		case 'passkeyLogin':
			return { ...row, passkeyLoginEnabled: a.on };
		case 'deletePasskey':
			return { ...row, passkeys: Math.max(0, row.passkeys - 1) };
		case 'registerPasskey':
			return { ...row, passkeys: row.passkeys + 1 };
		case 'unlink':
			return ssoOff({ ...row, ssoProvider: null, ssoIssuer: null, ssoSubject: null });
		case 'saveSso':
			return a.on ? { ...row, ssoEnabled: true } : ssoOff(row);
		case 'linkManual':
			return row.ssoMode === 'FORWARD_AUTH'
				? relink('forward-auth', 'forward-auth', s.proxyUser)
				: relink('oidc', row.oidcIssuer, s.proxyUser);
		case 'linkFromRequest':
			return relink('forward-auth', 'forward-auth', s.proxyUser);
		case 'connection': {
			const next = { ...row, ssoMode: a.mode, oidcIssuer: a.issuer, oidcClientId: 'lib' };
			return linkFits(next) ? next : ssoOff(next);
		}
		case 'revert':
			return ssoOff({ ...row, oidcIssuer: ISSUER_B, oidcClientId: 'old' });
	}
}

/**
 * A reason other than a lock-out for which the server refuses `a` in `row` (with 409), or null.
 * Each is a precondition the settings page states: nothing to unlink, no snapshot, a request
 * that did not come through the trusted proxy with a user, and so on.
 */
function otherReason(s: Start, a: Action, row: Row): string | null {
	const proxied = (v: Via) => s.trustedProxy && v === 'proxy';
	switch (a.kind) {
		case 'togglePlex':
			return row.hasPlex ? null : 'no Plex account linked';
		case 'unlink':
			return row.ssoSubject === null ? 'nothing linked' : null;
		case 'revert':
			return row.hasSnapshot ? null : 'no previous configuration';
		case 'linkFromRequest':
			if (row.ssoMode !== 'FORWARD_AUTH') return 'not in forward-auth mode';
			return proxied(a.via) ? null : 'no user named by a trusted proxy';
		case 'saveSso':
			if (!a.on) return null;
			if (!linkFits(row)) return 'not linked for the current settings';
			if (row.ssoMode === 'FORWARD_AUTH' && !row.ssoEnabled) {
				const proven = proxied(a.via) && row.ssoSubject === s.proxyUser;
				return proven ? null : 'no proof from the proxy';
			}
			return null;
		default:
			return null;
	}
}

/** How often the server took (200) and refused (409) each action, over the whole test. */
const tally: Record<string, { accepted: number; refused: number }> = {};

function count(a: Action, status: number, after: string[]) {
	const name =
		a.kind === 'passkeyLogin'
			? `passkeyLogin ${a.on ? 'on' : 'off'}`
			: a.kind === 'toggleLocal' && !a.on && after.join() === 'passkey'
				? 'password off, a passkey left'
				: a.kind;
	tally[name] ??= { accepted: 0, refused: 0 };
	if (status === 200) tally[name].accepted++;
	if (status === 409) tally[name].refused++;
}

/** How often each action was refused because it would have left no way in. */
const lockOutRefusals: Record<string, number> = {};
function refusedToKeep(a: Action) {
	lockOutRefusals[a.kind] = (lockOutRefusals[a.kind] ?? 0) + 1;
}

/** Where nothing else leaves a way in, so that the passkey actions meet refusals. */
const passwordOnly = {
	password: true,
	plex: false,
	localOn: true,
	plexOn: false,
	mode: 'OIDC' as const,
	linked: false,
	sso: false,
	snapshot: false,
	trustedProxy: false,
	proxyUser: 'alice' as const
};

/** SSO on, no password, no Plex, one passkey. */
const ssoAndPasskey = {
	...passwordOnly,
	password: false,
	localOn: false,
	linked: true,
	sso: true,
	passkeyOn: true,
	passkey: true
};

describe('nobody locks themselves out', () => {
	test('any sequence of settings actions leaves a working way in', async () => {
		await fc.assert(
			fc.asyncProperty(
				start,
				fc.array(action, { minLength: 1, maxLength: 6 }),
				async (s, actions) => {
					const bs = await prepare(s);
					expect((await waysIn(s)).ways.length).toBeGreaterThan(0);
					for (const a of actions) {
						const before = await readRow();
						const res = await perform(s, bs, a);
						const allowed = a.kind === 'deletePasskey' ? [200, 404, 409] : [200, 400, 409];
						expect(allowed, `${a.kind} answered ${res.status}`).toContain(res.status);
						const { ways, row } = await waysIn(s);
						count(a, res.status, ways);
						const context = `${JSON.stringify(a)} in ${JSON.stringify(actions)} from ${JSON.stringify(s)}`;
						// Safety: whatever was taken left a way in.
						expect(ways, `after ${context}: ${JSON.stringify(row)}`).not.toHaveLength(0);
						// Liveness: a refusal is needed. Either the action would have left no way in,
						// or the page's precondition for it does not hold.
						if (res.status === 409) {
							const left = waysOf(s, wouldLeave(s, a, before));
							const reason = otherReason(s, a, before);
							expect(
								left.length === 0 || reason !== null,
								`${context} was refused, but it would have left ${left.join(', ')}: ${JSON.stringify(before)}`
							).toBe(true);
							if (left.length === 0 && reason === null) refusedToKeep(a);
						}
					}
				}
			),
			{
				numRuns: 80,
				seed: Number(process.env.PROPERTY_SEED) || undefined,
				// Always tried first: forward auth linked by pasting, switched on while
				// TRUSTED_PROXIES is empty (the lock-out of issue 9, point 9).
				examples: [
					[
						{
							password: true,
							plex: false,
							localOn: true,
							plexOn: false,
							mode: 'FORWARD_AUTH',
							linked: false,
							sso: false,
							snapshot: false,
							trustedProxy: false,
							proxyUser: 'alice',
							passkeyOn: false,
							passkey: false
						},
						[{ kind: 'linkManual' }, { kind: 'saveSso', on: true, via: 'proxy' }]
					],
					// SSO on, no password, no Plex, one passkey: unlinking SSO leaves the passkey, as
					// switching SSO off does (issue 23: unlink read its own inputs without passkeys).
					[ssoAndPasskey, [{ kind: 'unlink' }]],
					[
						ssoAndPasskey,
						[{ kind: 'saveSso', on: false, via: 'proxy' }, { kind: 'deletePasskey' }]
					],
					// A passkey becomes the only way in, then stops being it.
					[
						{ ...passwordOnly, passkeyOn: true, passkey: false },
						[
							{ kind: 'registerPasskey' },
							{ kind: 'toggleLocal', on: false },
							{ kind: 'deletePasskey' },
							{ kind: 'passkeyLogin', on: false },
							{ kind: 'toggleLocal', on: true },
							{ kind: 'deletePasskey' }
						]
					],
					// Passkey sign-in switched on and off beside the password.
					[
						{ ...passwordOnly, passkeyOn: false, passkey: true },
						[
							{ kind: 'passkeyLogin', on: true },
							{ kind: 'passkeyLogin', on: false }
						]
					]
				]
			}
		);
		// The passkey actions really ran both ways, and a passkey really was a way in on its own.
		const refusable = ['deletePasskey', 'passkeyLogin off'];
		for (const name of ['registerPasskey', 'passkeyLogin on', 'password off, a passkey left']) {
			expect(tally[name]?.accepted, `${name}: ${JSON.stringify(tally)}`).toBeGreaterThan(0);
		}
		for (const name of refusable) {
			expect(tally[name]?.accepted, `${name}: ${JSON.stringify(tally)}`).toBeGreaterThan(0);
			expect(tally[name]?.refused, `${name}: ${JSON.stringify(tally)}`).toBeGreaterThan(0);
		}
		// Refusals that kept the last way in did happen (else the liveness check saw none).
		expect(Object.keys(lockOutRefusals).length, JSON.stringify(lockOutRefusals)).toBeGreaterThan(2);
		console.info('actions (accepted/refused):', JSON.stringify(tally));
		console.info('refused to keep the last way in:', JSON.stringify(lockOutRefusals));
	}, 240_000);
});
