// Two browser tabs, two changes that are each allowed on their own and together would leave no
// way in: unlinking SSO in one (allowed: the password form is on) and switching the password
// form off in the other (allowed: SSO is on and linked), at the same moment. Unlinking is one
// transaction that locks the settings row and asks the rule inside it, like the switch, so the
// second of the two sees the first: either the unlink turns the password form back on, or the
// switch is refused.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

let app: App;
let adminId: number;

const ISSUER = 'https://idp.example.test';

beforeAll(async () => {
	app = await startApp();
	adminId = await insertAdmin(app.sql);
	await app.sql`
		update "AppSettings" set "ssoMode" = 'OIDC', "oidcIssuer" = ${ISSUER}, "oidcClientId" = 'librariarr'
	`;
});
afterAll(() => app?.stop());

const PATH = '/settings/authentication?/';

describe('linking and unlinking are serialised on the settings row', () => {
	test('unlinking SSO while another tab switches local sign-in off leaves a way in', async () => {
		const tab = browser(app.url);
		expect((await tab.signIn()).status).toBe(303);
		for (let round = 0; round < 30; round++) {
			await app.sql`
				update "User" set "ssoProvider" = 'oidc', "ssoIssuer" = ${ISSUER}, "ssoSubject" = 'ada'
				where id = ${adminId}
			`;
			await app.sql`update "AppSettings" set "ssoEnabled" = true, "localAuthEnabled" = true`;
			const [unlink, local] = await Promise.all([
				tab.post(PATH + 'unlink', {}),
				tab.post(PATH + 'toggleLocal', { enabled: 'false' })
			]);
			expect([unlink.status, local.status].every((s) => s === 200 || s === 409)).toBe(true);
			const [row] = await app.sql`
				select s."localAuthEnabled", s."ssoEnabled", u."ssoSubject" is not null as "linked"
				from "AppSettings" s, "User" u
			`;
			const ways = [row.localAuthEnabled, row.ssoEnabled && row.linked].filter(Boolean);
			expect(ways.length, `round ${round}: ${JSON.stringify(row)}`).toBeGreaterThan(0);
		}
	});
});
