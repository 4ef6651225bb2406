// Every page on a 360 px wide phone: nothing scrolls sideways, with JavaScript on and off.
import type { Page } from '@playwright/test';
import { expect, gotoReady, pathEquals, signIn, test } from './fixtures';

test.use({ viewport: { width: 360, height: 740 } });

async function expectNoSidewaysScroll(page: Page, what: string) {
	const { scrollWidth, innerWidth, widest } = await page.evaluate(() => {
		// The outermost element that reaches past the screen's right edge names the culprit.
		const past = [...document.body.querySelectorAll('*')].filter(
			(e) => e.getBoundingClientRect().right > window.innerWidth + 0.5
		);
		const outermost = past.find((e) => !past.includes(e.parentElement as Element));
		return {
			scrollWidth: document.documentElement.scrollWidth,
			innerWidth: window.innerWidth,
			widest: outermost
				? `<${outermost.tagName.toLowerCase()} class="${outermost.getAttribute('class') ?? ''}">`
				: 'nothing'
		};
	});
	expect(
		scrollWidth,
		`${what} is ${scrollWidth} px wide on a ${innerWidth} px screen (sticking out: ${widest})`
	).toBeLessThanOrEqual(innerWidth);
}

test.describe('on a 360 px phone', () => {
	test('first-run pages fit the width: setup, restore from backup, an unknown page', async ({
		page,
		jsEnabled
	}) => {
		for (const path of ['/setup', '/setup/restore', '/no-such-page']) {
			await gotoReady(page, path, jsEnabled);
			await expectNoSidewaysScroll(page, path);
		}
	});

	test('signed-out pages fit the width: login and an unknown page', async ({
		page,
		admin,
		jsEnabled
	}) => {
		void admin;
		for (const path of ['/login', '/no-such-page']) {
			await gotoReady(page, path, jsEnabled);
			await expectNoSidewaysScroll(page, path);
		}
	});

	test('signed-in pages fit the width, the backups list included', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await expectNoSidewaysScroll(page, '/');

		await gotoReady(page, '/settings/backups', jsEnabled);
		await page.getByRole('button', { name: 'Create backup' }).click();
		await expect(page.getByRole('status').filter({ hasText: /Backup librariarr-/ })).toBeVisible();
		await expect(page.locator('tr[data-backup]').first()).toBeVisible();
		await expectNoSidewaysScroll(page, '/settings/backups with a backup listed');
		// every action of the row is on screen, not cut off
		const row = page.locator('tr[data-backup]').first();
		for (const action of [row.getByRole('link', { name: /^Download/ }), row.locator('summary')]) {
			const box = await action.boundingBox();
			expect(box && box.x + box.width).toBeLessThanOrEqual(360);
		}

		for (const path of ['/settings/authentication', '/settings/security', '/no-such-page']) {
			await gotoReady(page, path, jsEnabled);
			await expectNoSidewaysScroll(page, path);
		}
	});

	test('Settings → Security shows sessions, history and throttles as cards: every action on screen', async ({
		page,
		browser,
		admin,
		sql,
		jsEnabled
	}) => {
		// A second session (so that "Sign out" shows on a row) and a limit in force.
		const other = await browser.newContext({ javaScriptEnabled: jsEnabled });
		await signIn(await other.newPage(), jsEnabled, admin);
		await other.close();
		await sql`
			insert into "Throttle" (key, kind, attempts, "maxAttempts", "windowEndsAt")
			values ('password:address:203.0.113.7', 'password', 10, 10, now() + interval '9 minutes')
		`;
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/security', jsEnabled);
		await expectNoSidewaysScroll(page, '/settings/security');
		const onScreen = async (what: string, locator: import('@playwright/test').Locator) => {
			await expect(locator, what).toBeVisible();
			const box = await locator.boundingBox();
			expect(box && box.x + box.width, `${what} ends past the screen`).toBeLessThanOrEqual(360);
		};
		const otherSession = page.locator('tr[data-session="other"]').first();
		await onScreen(
			'Sign out of the other session',
			otherSession.getByRole('button', { name: /^Sign out/ })
		);
		await onScreen("the other session's last seen", otherSession.getByText(/Last seen/));
		const limit = page.locator('tr[data-throttle]').first();
		await onScreen('Clear', limit.getByRole('button', { name: /^Clear/ }));
		await onScreen('Lifts at', limit.getByText(/Lifts at/));
		await onScreen('a history row', page.locator('tr[data-event]').first());
		// No table scrolls sideways inside itself either (a scroller would hide a column).
		const scrollers = await page.evaluate(
			() =>
				[...document.querySelectorAll('.overflow-x-auto')].filter(
					(e) => e.scrollWidth > e.clientWidth + 0.5
				).length
		);
		expect(scrollers, 'tables that scroll sideways').toBe(0);
	});

	test('the header takes two rows: the name and Sign out, then the links', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await expect(page).toHaveURL(pathEquals('/'));
		const home = await page.getByRole('link', { name: 'Librariarr' }).boundingBox();
		const signOut = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
		const nav = await page.getByRole('navigation', { name: 'Main' }).boundingBox();
		const header = await page.locator('header').boundingBox();
		expect(Math.abs(home!.y + home!.height / 2 - (signOut!.y + signOut!.height / 2))).toBeLessThan(
			8
		);
		expect(nav!.y).toBeGreaterThan(signOut!.y + signOut!.height - 1);
		expect(header!.height).toBeLessThan(110);
	});
});
