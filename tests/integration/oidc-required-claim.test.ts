// "Required claim" (issue 29, part 2) against oidc-provider (tests/helpers/idp.js), whose accounts
// carry groups and roles in every shape a provider sends them: checked at every OIDC sign-in (a
// refusal lands on /login?sso_error=claim_required, audited with the claim and what it held) and
// at Verify & Link (refused, saying what the claim held); turning the rule on, or SSO on with it,
// is refused when the admin's own last claims do not satisfy it; hostile form input is refused
// with words and changes nothing. Claims come through userinfo (oidc-provider's default) and, from
// a second provider, in the ID token itself.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadKey, open, seal } from '../../src/lib/server/crypto';
import { browser, insertAdmin, startApp, type App, signedIn } from '../helpers/app';
import { CONFIDENTIAL_SECRET, startIdp, USERS } from '../helpers/idp.js';
import { throughProvider } from '../helpers/idp-login';

const SECRET_KEY = 'oidc-required-claim-key';
const ORIGIN = 'http://librariarr.test';
const SETTINGS = '/settings/authentication';
const ADA = USERS.uuid;

let app: App;
let idp: Awaited<ReturnType<typeof startIdp>>;
/** A provider that puts the claims in the ID token too (no userinfo needed). */
let idTokenIdp: Awaited<ReturnType<typeof startIdp>>;
let adminId: number;
/** Ada's extra claims at both providers; each test sets them. */
const accounts: Record<string, Record<string, unknown>> = { [ADA.sub]: {} };

beforeAll(async () => {
	const redirectUris = [`${ORIGIN}/api/auth/sso/oidc/callback`];
	idp = await startIdp({ redirectUris, accounts });
	idTokenIdp = await startIdp({
		redirectUris,
		accounts,
		config: { conformIdTokenClaims: false }
	});
	app = await startApp({ SECRET_KEY, ORIGIN });
	adminId = await insertAdmin(app.sql);
});
afterAll(async () => {
	await app?.stop();
	await idp?.stop();
	await idTokenIdp?.stop();
});
beforeEach(async () => {
	accounts[ADA.sub] = {};
	await useIssuer(idp.issuer);
});

async function useIssuer(issuer: string) {
	await app.sql`delete from "AuditEvent"`;
	await app.sql`delete from "Session"`;
	await app.sql`
		update "User" set "ssoProvider" = null, "ssoIssuer" = null, "ssoSubject" = null,
			"ssoClaimsSeen" = null, "ssoClaimsSeenDigest" = null
		where id = ${adminId}
	`;
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${issuer},
			"oidcClientId" = 'librariarr',
			"oidcClientSecret" = ${seal(CONFIDENTIAL_SECRET, loadKey({ SECRET_KEY }))},
			"oidcScopes" = 'openid profile email groups', "ssoEnabled" = false,
			"localAuthEnabled" = true, "ssoRequiredClaim" = '', "ssoRequiredClaimValues" = '{}',
			"ssoConfigVersion" = "ssoConfigVersion" + 1
		where id = 1
	`;
}

type Browser = ReturnType<typeof browser>;

async function admin() {
	return signedIn(app.url, { origin: ORIGIN });
}

async function throughIdp(b: Browser, start: Response, issuer = idp.issuer) {
	expect(start.status).toBe(303);
	const back = new URL(await throughProvider(issuer, start.headers.get('location')!, ADA.sub));
	const res = await b.get(back.pathname + back.search);
	return res.headers.get('location');
}

/** Verify & Link through the provider; where the app sent the browser back to. */
const verifyAndLink = async (b: Browser, issuer = idp.issuer) =>
	throughIdp(b, await b.post(`${SETTINGS}?/verifyLink`, {}, { origin: ORIGIN }), issuer);

/** An SSO sign-in in a fresh browser; where it ended, and the browser. */
async function ssoSignIn(issuer = idp.issuer) {
	const b = browser(app.url);
	const location = await throughIdp(b, await b.get('/api/auth/sso/oidc/login'), issuer);
	return { location, b };
}

/** The visible text of a page, without tags. */
const text = (html: string) =>
	html
		.replace(/<[^>]+>/g, ' ')
		.replace(/&#39;|&rsquo;/g, "'")
		.replace(/&amp;/g, '&')
		.replace(/&quot;/g, '"')
		.replace(/\s+/g, ' ');

async function saveRule(b: Browser, path: string, values: string[] | string) {
	const res = await b.post(
		`${SETTINGS}?/saveClaimRule`,
		{
			requiredClaim: path,
			requiredClaimValues: Array.isArray(values) ? values.join('\n') : values
		},
		{ origin: ORIGIN }
	);
	return { status: res.status, page: text(await res.text()) };
}

const stored = async () =>
	(
		await app.sql<{ path: string; values: string[]; on: boolean }[]>`
			select "ssoRequiredClaim" as path, "ssoRequiredClaimValues" as values, "ssoEnabled" as on
			from "AppSettings"
		`
	)[0];

/** Link Ada with the given claims, then set the rule and switch SSO on directly. */
async function linkedWithRule(claims: Record<string, unknown>, path: string, values: string[]) {
	accounts[ADA.sub] = claims;
	const b = await admin();
	expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
	await app.sql`
		update "AppSettings" set "ssoRequiredClaim" = ${path},
			"ssoRequiredClaimValues" = ${values}::text[], "ssoEnabled" = true
	`;
	return b;
}

describe('every OIDC sign-in', () => {
	const shapes: [string, Record<string, unknown>, string, string[]][] = [
		['an array', { groups: ['staff', 'librariarr'] }, 'groups', ['librariarr']],
		['a space-separated string', { roles: 'viewer librariarr' }, 'roles', ['librariarr']],
		['a comma-separated string', { roles: 'viewer,librariarr' }, 'roles', ['librariarr']],
		['a single value', { roles: 'librariarr' }, 'roles', ['librariarr']],
		[
			'a nested path (Keycloak)',
			{ realm_access: { roles: ['offline_access', 'librariarr'] } },
			'realm_access.roles',
			['librariarr']
		],
		['a number in an array', { groups: [42] }, 'groups', ['42']]
	];
	for (const [shape, claims, path, values] of shapes) {
		test(`${shape}: an accepted value signs in`, async () => {
			await linkedWithRule(claims, path, values);
			const { location, b } = await ssoSignIn();
			expect(location).toBe('/');
			expect((await b.get('/settings/security')).status).toBe(200);
		});
	}

	test('the claim changed at the provider: refused, audited with the claim and what it held, no session', async () => {
		const owner = await linkedWithRule({ groups: ['librariarr'] }, 'groups', ['librariarr']);
		accounts[ADA.sub] = { groups: ['staff', 'guests'] };
		const { location, b } = await ssoSignIn();
		expect(location).toBe('/login?sso_error=claim_required');
		expect((await b.get('/settings/security')).status).toBe(303);
		const [row] = await app.sql`
			select "userId", detail from "AuditEvent"
			where event = 'login.failed' and detail->>'reason' = 'claim_required'
		`;
		expect(row.userId).toBe(adminId);
		expect(row.detail).toMatchObject({ claim: 'groups', held: '“staff”, “guests”' });
		const sessions = await app.sql`select 1 from "Session" where method = 'oidc'`;
		expect(sessions).toHaveLength(0);
		// The login page says what is missing; the history names the claim and what it held.
		const login = text(await (await b.get(location!)).text());
		expect(login).toContain('does not have the group or role this Librariarr requires');
		const history = text(await (await owner.get('/settings/security')).text());
		expect(history).toContain('The “groups” claim held “staff”, “guests”');
	});

	test('a missing claim, an object, and Entra group overage are refusals that say so', async () => {
		await linkedWithRule({ groups: ['librariarr'] }, 'groups', ['librariarr']);
		const cases: [Record<string, unknown>, RegExp][] = [
			[{}, /The provider sent no “groups” claim/],
			[{ groups: { admins: true } }, /held an object/],
			[{ _claim_names: { groups: 'src1' } }, /Entra ID group overage/],
			[{ hasgroups: true }, /Entra ID group overage/]
		];
		for (const [claims, words] of cases) {
			await app.sql`delete from "AuditEvent"`;
			accounts[ADA.sub] = claims;
			const { location } = await ssoSignIn();
			expect(location, JSON.stringify(claims)).toBe('/login?sso_error=claim_required');
			const [row] = await app.sql`
				select detail from "AuditEvent" where detail->>'reason' = 'claim_required'
			`;
			expect(row.detail.error, JSON.stringify(claims)).toMatch(words);
		}
	});

	test('claims in the ID token itself are read without userinfo', async () => {
		await useIssuer(idTokenIdp.issuer);
		accounts[ADA.sub] = { groups: ['librariarr'] };
		const b = await admin();
		expect(await verifyAndLink(b, idTokenIdp.issuer)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		await app.sql`
			update "AppSettings" set "ssoRequiredClaim" = 'groups',
				"ssoRequiredClaimValues" = '{librariarr}', "ssoEnabled" = true
		`;
		expect((await ssoSignIn(idTokenIdp.issuer)).location).toBe('/');
		accounts[ADA.sub] = { groups: ['other'] };
		expect((await ssoSignIn(idTokenIdp.issuer)).location).toBe('/login?sso_error=claim_required');
	});
});

describe('Verify & Link', () => {
	test('refused when the claims do not satisfy the rule, saying which claim and what it held', async () => {
		await app.sql`
			update "AppSettings" set "ssoRequiredClaim" = 'groups',
				"ssoRequiredClaimValues" = '{librariarr}'
		`;
		accounts[ADA.sub] = { groups: ['staff'] };
		const b = await admin();
		const back = await verifyAndLink(b);
		expect(back).toBe(`${SETTINGS}?sso_link_error=claim_required#sso`);
		const [user] = await app.sql`select "ssoSubject" from "User" where id = ${adminId}`;
		expect(user.ssoSubject).toBeNull();
		const page = text(await (await b.get(back!)).text());
		expect(page).toContain('its claims do not satisfy the Required claim rule');
		expect(page).toContain(
			'What happened: The “groups” claim held “staff”, none of them an accepted value.'
		);
		accounts[ADA.sub] = { groups: ['staff', 'librariarr'] };
		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
	});

	test('keeps the claims it saw sealed, not in clear', async () => {
		accounts[ADA.sub] = { groups: ['a-very-recognisable-group'] };
		expect(await verifyAndLink(await admin())).toBe(`${SETTINGS}?sso_linked=1#sso`);
		const [user] = await app.sql`select "ssoClaimsSeen" from "User" where id = ${adminId}`;
		expect(user.ssoClaimsSeen).toMatch(/^v1:/);
		expect(user.ssoClaimsSeen).not.toContain('recognisable');
	});
});

describe('the claims kept for the lock-out check', () => {
	test('a sign-in that saw the same claims writes nothing; new claims replace them', async () => {
		await linkedWithRule({ groups: ['librariarr'] }, 'groups', ['librariarr']);
		const kept = async () =>
			(await app.sql`select "ssoClaimsSeen" as v from "User" where id = ${adminId}`)[0].v;
		const first = await kept();
		// Only the identity and the claims, not the ID token or anything else of the sign-in.
		expect(Object.keys(JSON.parse(open(first, loadKey({ SECRET_KEY }))!)).sort()).toEqual([
			'claims',
			'dropped',
			'issuer',
			'subject'
		]);
		expect((await ssoSignIn()).location).toBe('/');
		// Sealed with a fresh IV each time: an unchanged value means it was not written again.
		expect(await kept()).toBe(first);
		accounts[ADA.sub] = { groups: ['librariarr', 'new-group'] };
		expect((await ssoSignIn()).location).toBe('/');
		expect(await kept()).not.toBe(first);
	});

	test('claims seen for another identity do not count for the one linked now', async () => {
		accounts[ADA.sub] = { groups: ['librariarr'] };
		const b = await admin();
		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		// Another subject linked by hand afterwards: nothing was seen of it.
		await app.sql`update "User" set "ssoSubject" = 'someone-else' where id = ${adminId}`;
		await app.sql`update "AppSettings" set "ssoEnabled" = true`;
		const refused = await saveRule(b, 'groups', ['librariarr']);
		expect(refused.status).toBe(409);
		expect(refused.page).toContain('has not seen your own claims');
	});
});

describe('turning the rule on: the lock-out rule', () => {
	test('while SSO is on, a rule the admin’s own last claims do not satisfy is refused; one they do is saved', async () => {
		accounts[ADA.sub] = { groups: ['staff', 'librariarr'] };
		const b = await admin();
		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		await app.sql`update "AppSettings" set "ssoEnabled" = true`;

		const refused = await saveRule(b, 'groups', ['admins']);
		expect(refused.status).toBe(409);
		expect(refused.page).toContain('would lock you out');
		expect(refused.page).toContain('The “groups” claim held “staff”, “librariarr”');
		expect(await stored()).toMatchObject({ path: '', values: [] });

		const wrongPath = await saveRule(b, 'realm_access.roles', ['librariarr']);
		expect(wrongPath.status).toBe(409);
		expect(wrongPath.page).toContain('The provider sent no “realm_access.roles” claim');

		const ok = await saveRule(b, 'groups', 'admins\nlibrariarr\n\nlibrariarr');
		expect(ok.status).toBe(200);
		expect(ok.page).toContain('Required claim saved');
		expect(await stored()).toMatchObject({ path: 'groups', values: ['admins', 'librariarr'] });
		const [audit] = await app.sql`
			select detail from "AuditEvent" where event = 'settings.sso_required_claim'
		`;
		expect(audit.detail).toEqual({ claim: 'groups', values: 2 });

		// Removing the rule is never refused.
		const cleared = await saveRule(b, '', '');
		expect(cleared.status).toBe(200);
		expect(await stored()).toMatchObject({ path: '', values: [] });
	});

	test('with no claims seen for the linked identity (a manual link), the rule is refused while SSO is on', async () => {
		const b = await admin();
		await app.sql`
			update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${idp.issuer},
				"ssoSubject" = ${ADA.sub}
			where id = ${adminId}
		`;
		await app.sql`update "AppSettings" set "ssoEnabled" = true`;
		const refused = await saveRule(b, 'groups', ['librariarr']);
		expect(refused.status).toBe(409);
		expect(refused.page).toContain('has not seen your own claims');
		// While SSO is off, the rule is saved (switching on checks it).
		await app.sql`update "AppSettings" set "ssoEnabled" = false`;
		expect((await saveRule(b, 'groups', ['librariarr'])).status).toBe(200);
	});

	test('switching SSO on with a rule the admin’s own claims do not satisfy is refused', async () => {
		accounts[ADA.sub] = { groups: ['staff'] };
		const b = await admin();
		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		// The rule saved while SSO is off (allowed), then SSO switched on.
		expect((await saveRule(b, 'groups', ['librariarr'])).status).toBe(200);
		const on = await b.post(`${SETTINGS}?/saveSso`, { ssoEnabled: 'on' }, { origin: ORIGIN });
		expect(on.status).toBe(409);
		expect(text(await on.text())).toContain('would lock you out');
		expect((await stored()).on).toBe(false);

		// Added to the group at the provider, and seen by a Verify & Link: now it switches on.
		accounts[ADA.sub] = { groups: ['staff', 'librariarr'] };
		expect(await verifyAndLink(b)).toBe(`${SETTINGS}?sso_linked=1#sso`);
		const again = await b.post(`${SETTINGS}?/saveSso`, { ssoEnabled: 'on' }, { origin: ORIGIN });
		expect(again.status).toBe(200);
		expect((await stored()).on).toBe(true);
	});
});

describe('hostile form input: a clear 400, nothing changed', () => {
	test.each([
		['a path with spaces', 'my groups', 'a', 'cannot contain spaces'],
		['an empty part', 'realm_access..roles', 'a', 'empty part'],
		['too deep', 'a.b.c.d.e.f', 'a', 'deeper than 5'],
		['a path without values', 'groups', '\n \n', 'at least one accepted value'],
		['values without a path', '', 'admins', 'Enter the claim path'],
		[
			'too many values',
			'groups',
			Array.from({ length: 51 }, (_, i) => `g${i}`).join('\n'),
			'at most 50'
		],
		['a value too long', 'groups', 'x'.repeat(201), 'longer than 200'],
		['a control character', 'groups', 'a\u0007b', 'control character']
	])('%s', async (_name, path, values, words) => {
		const b = await admin();
		const res = await saveRule(b, path, values);
		expect(res.status).toBe(400);
		expect(res.page).toContain(words);
		expect(await stored()).toMatchObject({ path: '', values: [] });
	});

	test('a form that is not a form, or signed out: no 500', async () => {
		const b = await admin();
		const res = await fetch(`${app.url}${SETTINGS}?/saveClaimRule`, {
			method: 'POST',
			headers: {
				origin: ORIGIN,
				'content-type': 'application/json',
				cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; ')
			},
			body: '{}'
		});
		expect(res.status).toBe(415);
		const anonymous = await browser(app.url).post(
			`${SETTINGS}?/saveClaimRule`,
			{ requiredClaim: 'groups', requiredClaimValues: 'x' },
			{ origin: ORIGIN }
		);
		expect(anonymous.status).toBeLessThan(500);
		expect(await stored()).toMatchObject({ path: '' });
	});
});
