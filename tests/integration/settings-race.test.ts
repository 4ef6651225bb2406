// Two browser tabs, two changes that are each allowed on their own and together would leave no
// way in: switching the password form off in one and the Plex button off in the other, at the
// same moment. Each change is one transaction that locks the settings row and asks the rule
// inside it, so the second one sees the first and is refused.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';

let app: App;

beforeAll(async () => {
	app = await startApp();
	const id = await insertAdmin(app.sql);
	await app.sql`update "User" set "plexId" = '1001', "plexUsername" = 'ada' where id = ${id}`;
});
afterAll(() => app?.stop());

const PATH = '/settings/authentication?/';

describe('auth state changes are serialised on the settings row', () => {
	test('turning local and Plex sign-in off at once from two tabs leaves one of them on', async () => {
		const tab = browser(app.url);
		expect((await tab.signIn()).status).toBe(303);
		for (let round = 0; round < 15; round++) {
			await app.sql`update "AppSettings" set "localAuthEnabled" = true, "plexLoginEnabled" = true`;
			const [local, plex, unlink] = await Promise.all([
				tab.post(PATH + 'toggleLocal', { enabled: 'false' }),
				tab.post(PATH + 'togglePlex', { enabled: 'false' }),
				round % 3 === 0 ? tab.post(PATH + 'unlinkPlex', {}) : Promise.resolve(null)
			]);
			const statuses = [local.status, plex.status, unlink?.status].filter(Boolean);
			expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
			const [row] = await app.sql`
				select s."localAuthEnabled", s."plexLoginEnabled", u."plexId" is not null as "hasPlex"
				from "AppSettings" s, "User" u
			`;
			const ways = [row.localAuthEnabled, row.plexLoginEnabled && row.hasPlex].filter(Boolean);
			expect(ways.length, `round ${round}: ${JSON.stringify(row)}`).toBeGreaterThan(0);
			if (!row.hasPlex) {
				await app.sql`update "User" set "plexId" = '1001'`;
			}
		}
	});
});
