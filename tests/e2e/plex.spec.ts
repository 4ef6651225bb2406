// Plex sign-in in the browser, against a local fake of plex.tv (tests/helpers/fake-plex.js):
// first-run setup through Plex, linking from the settings, signing in, the banners, the
// last-way-in refusals, the SSO_DISABLE_OVERRIDE escape hatch and plex.tv failing.
//
// The app instance started by global-setup.ts knows nothing of the fake, so this file starts its
// own (on the same database, which the fixtures empty before each test) with PLEX_API_URL and
// PLEX_AUTH_URL pointing at the fake, and every URL here is absolute on that instance.
import type { Locator, Page, TestInfo } from '@playwright/test';
import type postgres from 'postgres';
import { startFakePlex } from '../helpers/fake-plex.js';
import { startServer } from '../helpers/server.js';
import {
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	signIn,
	test
} from './fixtures';
import { env, sessionCount } from './steps';

type PlexUser = 'alice' | 'bob';
const PLEX_IDS: Record<PlexUser, string> = { alice: '1001', bob: '1002' };

const NOT_LINKED = 'This Plex account is not linked to a Librariarr user.';
const UNAVAILABLE = 'plex.tv did not answer properly in time. Try again in a moment.';
const LAST_WAY =
	'Plex is your only way in, so this is refused. Set a local password or enable SSO first.';
const SETTINGS = '/settings/authentication';

const PLEX_TIMEOUT_MS = '1500';
let fake: Awaited<ReturnType<typeof startFakePlex>>;
let app: Awaited<ReturnType<typeof startServer>>;

function appEnv(extra: Record<string, string> = {}) {
	return {
		PLEX_API_URL: fake.url,
		PLEX_AUTH_URL: fake.authUrl,
		PLEX_TIMEOUT_MS,
		// No SECRET_KEY of its own: it shares the database with the main e2e server, so it must
		// use that server's key (an instance with another one refuses to start).
		...extra
	};
}

test.beforeAll(async () => {
	fake = await startFakePlex();
	app = await startServer({ databaseUrl: env('E2E_DATABASE_URL'), env: appEnv() });
});

test.afterAll(async () => {
	await app?.stop();
	await fake?.stop();
});

test.beforeEach(() => {
	fake.state.mode = 'ok';
	fake.state.slowMs = 3000;
});

/** An absolute URL on `base` (this file's app instance unless told otherwise). */
const at = (path: string, base = app.url) => `${base}${path}`;

/** Matches a URL on `base` whose path (and query, when given) is exactly `path`. */
function onApp(path: string, base = app.url) {
	const origin = new URL(base).origin;
	return (url: URL) => url.origin === origin && pathEquals(path)(url);
}

/**
 * The user at plex.tv approving the PIN the app just sent the browser to the fake's auth page
 * for, and plex.tv sending the browser back to the app.
 *
 * With JavaScript the fake's page works as plex.tv's does: pick the account, click Approve.
 * Without it the page cannot read its URL fragment, so the approval is made the way a user
 * approving from another device would (straight at "plex.tv"), and the browser follows
 * forwardUrl as plex.tv would have sent it.
 */
async function approveAtPlex(page: Page, testInfo: TestInfo, user: PlexUser, base = app.url) {
	await page.waitForURL((url) => url.origin === new URL(fake.url).origin);
	const params = fake.parseAuthLocation(page.url());
	expect(new URL(page.url()).pathname).toBe('/auth');
	expect(params.get('context[device][product]')).toBe('Librariarr');
	expect(params.get('clientID')).toMatch(/^[0-9a-f-]{36}$/);
	const code = params.get('code');
	const forwardUrl = params.get('forwardUrl');
	expect(code).toBeTruthy();
	expect(forwardUrl).toMatch(
		new RegExp(`^${base.replace(/[.]/g, '\\.')}/api/auth/plex/callback\\?tx=[^&]+$`)
	);

	if (testInfo.project.name === 'nojs') {
		fake.approve(code!, user);
		await page.goto(forwardUrl!);
	} else {
		await page.getByLabel('Account').selectOption(user);
		await page.getByRole('button', { name: 'Approve' }).click();
		await page.waitForURL((url) => url.origin === new URL(base).origin);
	}
}

/** Links the user to `plexUser` straight in the database. */
async function linkPlexInDb(sql: postgres.Sql, userId: number, plexUser: PlexUser) {
	await sql`
		update "User" set "plexId" = ${PLEX_IDS[plexUser]}, "plexUsername" = ${plexUser}
		where id = ${userId}
	`;
}

/** How long the app took to answer the next request to `path` (ms, request sent to response start). */
async function answerTime(page: Page, path: string): Promise<number> {
	const response = await page.waitForResponse((r) => new URL(r.url()).pathname === path);
	const timing = response.request().timing();
	return timing.responseStart - timing.requestStart;
}

const plexCard = (page: Page) => page.getByRole('region', { name: 'Plex Connection' });

async function clickPlexButton(scope: Page | Locator, name = 'Sign in with Plex') {
	await scope.getByRole('button', { name, exact: true }).click();
}

test.describe('Plex sign-in', () => {
	test('first run: setup through Plex makes the Plex account the admin, with local login off', async ({
		page,
		jsEnabled,
		sql
	}, testInfo) => {
		await gotoReady(page, at('/setup'), jsEnabled);
		const plexSection = page.getByRole('region', { name: 'Or use your Plex account' });
		await clickPlexButton(plexSection, 'Continue with Plex');
		await approveAtPlex(page, testInfo, 'alice');

		await expect(page).toHaveURL(onApp('/'));
		await expect(page.getByTestId('signed-in-as')).toHaveText('alice');
		await expect(page.getByTestId('signed-in-method')).toHaveText('Plex account');

		await gotoReady(page, at(SETTINGS), jsEnabled);
		await expect(page.getByRole('switch', { name: 'Enable Local Login' })).toHaveAttribute(
			'aria-checked',
			'false'
		);
		await expect(page.getByTestId('plex-username')).toHaveText('alice');
		await expect(page.getByRole('switch', { name: 'Allow Plex Login' })).toHaveAttribute(
			'aria-checked',
			'true'
		);

		const users = await sql`select "plexId", "passwordHash" from "User"`;
		expect(users).toEqual([{ plexId: '1001', passwordHash: null }]);
	});

	test('a local admin links Plex in the settings, allows Plex login, and signs in with it', async ({
		page,
		admin,
		jsEnabled,
		sql
	}, testInfo) => {
		await signIn(page, jsEnabled, admin, { path: at('/login') });
		await gotoReady(page, at(SETTINGS), jsEnabled);
		const card = plexCard(page);
		await expect(card).toContainText('No Plex account is linked.');
		await clickPlexButton(card, 'Link Plex account');
		await approveAtPlex(page, testInfo, 'bob');

		await expect(page).toHaveURL(onApp(`${SETTINGS}?plex_linked=1`));
		await expect(
			card.getByRole('status').filter({ hasText: 'Plex account linked.' })
		).toBeVisible();
		await expect(card.getByTestId('plex-username')).toHaveText('bob');
		const [linked] = await sql`select "plexId" from "User" where id = ${admin.id}`;
		expect(linked.plexId).toBe('1002');

		// Linking alone does not offer Plex on the login page: the admin allows it.
		const allow = card.getByRole('switch', { name: 'Allow Plex Login' });
		await expect(allow).toHaveAttribute('aria-checked', 'false');
		await allow.click();
		// (With JavaScript the page keeps its URL, so "Plex account linked." stays shown too.)
		await expect(card.getByRole('status').filter({ hasText: 'Plex sign-in is on.' })).toHaveText(
			'Plex sign-in is on.'
		);
		await expect(allow).toHaveAttribute('aria-checked', 'true');

		await page.getByRole('button', { name: 'Sign out' }).click();
		await expect(page).toHaveURL(onApp('/login?signed_out=1'));
		expect(await sessionCount(sql)).toBe(0);

		await gotoReady(page, at('/login'), jsEnabled);
		await clickPlexButton(page);
		await approveAtPlex(page, testInfo, 'bob');
		await expect(page).toHaveURL(onApp('/'));
		await expect(page.getByTestId('signed-in-as')).toHaveText(admin.displayName);
		await expect(page.getByTestId('signed-in-method')).toHaveText('Plex account');
	});

	test('a Plex account nobody linked gets the banner and no session', async ({
		page,
		admin,
		jsEnabled,
		sql
	}, testInfo) => {
		await linkPlexInDb(sql, admin.id, 'alice');
		await sql`update "AppSettings" set "plexLoginEnabled" = true where id = 1`;

		await gotoReady(page, at('/login'), jsEnabled);
		await clickPlexButton(page);
		await approveAtPlex(page, testInfo, 'bob');

		await expect(page).toHaveURL(onApp('/login?plex_error=plex_not_linked'));
		await expect(page.getByRole('alert')).toHaveText(NOT_LINKED);
		await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
		expect(await sessionCount(sql)).toBe(0);
		await page.goto(at('/'));
		await expect(page).toHaveURL(onApp('/login'));
	});

	test('when Plex is the only way in, Allow Plex Login stays on and Plex stays linked', async ({
		page,
		admin,
		jsEnabled,
		sql
	}, testInfo) => {
		await linkPlexInDb(sql, admin.id, 'alice');
		await sql`update "User" set "passwordHash" = null where id = ${admin.id}`;
		await sql`update "AppSettings" set "plexLoginEnabled" = true where id = 1`;

		await gotoReady(page, at('/login'), jsEnabled);
		await clickPlexButton(page);
		await approveAtPlex(page, testInfo, 'alice');
		await expect(page).toHaveURL(onApp('/'));

		await gotoReady(page, at(SETTINGS), jsEnabled);
		const card = plexCard(page);
		const allow = card.getByRole('switch', { name: 'Allow Plex Login' });
		await expect(allow).toHaveAttribute('aria-checked', 'true');
		await allow.click();
		await expect(card.getByRole('alert')).toHaveText(LAST_WAY);
		await expect(allow).toHaveAttribute('aria-checked', 'true');

		await card.getByRole('button', { name: 'Unlink Plex' }).click();
		// Without JavaScript this is a fresh page: wait for the answer to the second action.
		await expect(card.getByRole('alert')).toHaveText(LAST_WAY);
		await expect(card.getByTestId('plex-username')).toHaveText('alice');
		await expect(allow).toHaveAttribute('aria-checked', 'true');

		const [settings] = await sql`select "plexLoginEnabled" from "AppSettings" where id = 1`;
		expect(settings.plexLoginEnabled).toBe(true);
		const [user] = await sql`select "plexId" from "User" where id = ${admin.id}`;
		expect(user.plexId).toBe('1001');
	});

	test('with Plex login off the button is gone; SSO_DISABLE_OVERRIDE brings it back and it works', async ({
		page,
		admin,
		jsEnabled,
		sql
	}, testInfo) => {
		await linkPlexInDb(sql, admin.id, 'alice');
		await sql`update "AppSettings" set "plexLoginEnabled" = false where id = 1`;

		await gotoReady(page, at('/login'), jsEnabled);
		await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
		await expect(page.getByRole('button', { name: 'Sign in with Plex' })).toHaveCount(0);

		const overridden = await startServer({
			databaseUrl: env('E2E_DATABASE_URL'),
			env: appEnv({ SSO_DISABLE_OVERRIDE: 'yes' })
		});
		try {
			await gotoReady(page, at('/login', overridden.url), jsEnabled);
			await clickPlexButton(page);
			await approveAtPlex(page, testInfo, 'alice', overridden.url);
			await expect(page).toHaveURL(onApp('/', overridden.url));
			await expect(page.getByTestId('signed-in-method')).toHaveText('Plex account');
			await expect(page.getByTestId('signed-in-as')).toHaveText(admin.displayName);
		} finally {
			await overridden.stop();
		}
	});

	for (const mode of ['error', 'malformed', 'slow'] as const) {
		test(`plex.tv answering "${mode}" ends on the banner, within the app's deadline, without a session`, async ({
			page,
			admin,
			jsEnabled,
			sql
		}, testInfo) => {
			await linkPlexInDb(sql, admin.id, 'alice');
			await sql`update "AppSettings" set "plexLoginEnabled" = true where id = 1`;

			// Failing after the approval: the callback cannot ask plex.tv about the PIN.
			await gotoReady(page, at('/login'), jsEnabled);
			await clickPlexButton(page);
			await page.waitForURL((url) => url.origin === new URL(fake.url).origin);
			fake.state.mode = mode;
			// Slow means slower than the whole test may take: only the app's own deadline
			// (PLEX_TIMEOUT_MS, 1.5 s) can bring the banner in time. No upper bound on a clock is
			// asserted here, so a busy machine cannot fail it; the lower bounds show the deadline
			// was what ended the wait.
			fake.state.slowMs = 60_000;
			const callback = answerTime(page, '/api/auth/plex/callback');
			await approveAtPlex(page, testInfo, 'alice');
			await expect(page).toHaveURL(onApp('/login?plex_error=plex_unavailable'));
			await expect(page.getByRole('alert')).toHaveText(UNAVAILABLE);
			const callbackTime = await callback;
			if (mode === 'slow') expect(callbackTime).toBeGreaterThan(1000); // (the deadline was hit)
			expect(await sessionCount(sql)).toBe(0);

			// Failing at the start: the PIN cannot be created.
			await gotoReady(page, at('/login'), jsEnabled);
			const start = answerTime(page, '/api/auth/plex/start');
			await clickPlexButton(page);
			await expect(page).toHaveURL(onApp('/login?plex_error=plex_unavailable'));
			await expect(page.getByRole('alert')).toHaveText(UNAVAILABLE);
			const startTime = await start;
			if (mode === 'slow') expect(startTime).toBeGreaterThan(1000);
			expect(await sessionCount(sql)).toBe(0);
			await page.goto(at('/'));
			await expect(page).toHaveURL(onApp('/login'));
		});
	}

	test('/setup with a Plex banner passes the accessibility check', async ({ page, jsEnabled }) => {
		await gotoReady(page, at('/setup?plex_error=plex_unavailable'), jsEnabled);
		const plexSection = page.getByRole('region', { name: 'Or use your Plex account' });
		await expect(plexSection.getByRole('alert')).toHaveText(UNAVAILABLE);
		await expect(plexSection.getByRole('button', { name: 'Continue with Plex' })).toBeVisible();
		await expectNoSeriousA11yViolations(page, '/setup with a Plex banner', jsEnabled);
	});

	test('the login page with the Plex button and a Plex banner passes the accessibility check', async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		await linkPlexInDb(sql, admin.id, 'alice');
		await sql`update "AppSettings" set "plexLoginEnabled" = true where id = 1`;
		await gotoReady(page, at('/login?plex_error=plex_not_linked'), jsEnabled);
		await expect(page.getByRole('alert')).toHaveText(NOT_LINKED);
		await expect(page.getByRole('button', { name: 'Sign in with Plex' })).toBeVisible();
		await expectNoSeriousA11yViolations(page, '/login with the Plex button and banner', jsEnabled);
	});

	test("the settings page's Plex card passes the accessibility check, linked and unlinked", async ({
		page,
		admin,
		jsEnabled,
		sql
	}) => {
		test.setTimeout(60_000); // two axe runs
		await signIn(page, jsEnabled, admin, { path: at('/login') });
		await gotoReady(page, at(`${SETTINGS}?plex_error=plex_already_linked`), jsEnabled);
		const card = plexCard(page);
		await expect(card.getByRole('button', { name: 'Link Plex account' })).toBeVisible();
		await expect(card.getByRole('alert')).toHaveText(
			'That Plex account is already linked to another user.'
		);
		await expectNoSeriousA11yViolations(page, 'the unlinked Plex card with a banner', jsEnabled);

		await linkPlexInDb(sql, admin.id, 'alice');
		await gotoReady(page, at(`${SETTINGS}?plex_linked=1`), jsEnabled);
		await expect(card.getByRole('status')).toHaveText('Plex account linked.');
		await expect(card.getByTestId('plex-username')).toHaveText('alice');
		await expect(card.getByRole('switch', { name: 'Allow Plex Login' })).toBeVisible();
		await expect(card.getByRole('button', { name: 'Unlink Plex' })).toBeVisible();
		await expectNoSeriousA11yViolations(page, 'the linked Plex card', jsEnabled);
	});
});
