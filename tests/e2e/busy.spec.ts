// Forms that wait on the network say so while they wait (with JavaScript: the button is disabled,
// marked aria-busy and relabelled; without it the browser shows its own progress).
import type { Page } from '@playwright/test';
import { expect, gotoReady, pathEquals, test } from './fixtures';

/**
 * Holds every POST to `path` until the returned function is called, which then lets it through
 * (or answers it with `answer`, a status, instead).
 *
 * A click that submits a plain form (a navigation) does not return until that navigation has
 * started to answer, so such a click must not be awaited before the post is released.
 */
async function holdPosts(page: Page, path: string) {
	let release!: (answer?: { status: number }) => void;
	const held = new Promise<{ status: number } | undefined>((resolve) => (release = resolve));
	await page.route(
		(url) => url.pathname === path,
		async (route) => {
			if (route.request().method() !== 'POST') return route.continue();
			const answer = await held;
			if (answer) await route.fulfill(answer);
			else await route.continue();
		}
	);
	return release;
}

test.describe('Busy states', () => {
	test('the setup form says it is creating the account while its post is in flight', async ({
		page,
		jsEnabled
	}) => {
		await gotoReady(page, '/setup', jsEnabled);
		await page.getByLabel('Display name').fill('Ada Lovelace');
		await page.getByLabel('Username').fill('ada');
		await page.getByLabel('Password', { exact: true }).fill('analytical engine');
		await page.getByLabel('Confirm password').fill('analytical engine');
		const create = page.getByRole('button', { name: 'Create account' });
		if (jsEnabled) {
			// The enhanced form posts with fetch, so the click returns while the post is held.
			const release = await holdPosts(page, '/setup');
			await create.click();
			const busy = page.getByRole('button', { name: 'Creating account…' });
			await expect(busy).toBeDisabled();
			await expect(busy).toHaveAttribute('aria-busy', 'true');
			release();
		} else {
			// Without JavaScript there is no busy state of ours to see: the form just works.
			await create.click();
		}
		await expect(page).toHaveURL(pathEquals('/'));
	});

	test('"Continue with Plex" on the setup page says it is opening Plex while its post is in flight', async ({
		page,
		jsEnabled
	}) => {
		await gotoReady(page, '/setup', jsEnabled);
		const plex = page.getByRole('region', { name: 'Or use your Plex account' });
		const button = plex.getByRole('button', { name: 'Continue with Plex', exact: true });
		await expect(button).toBeEnabled();
		await expect(button).toHaveAttribute('aria-busy', 'false');
		if (!jsEnabled) return; // the Plex round trip itself is tests/e2e/plex.spec.ts's
		const release = await holdPosts(page, '/api/auth/plex/start');
		// While the form's post (a navigation) is pending, Playwright's locators and page.evaluate
		// wait for it to finish, which here is never. So the page reports every change of the
		// button on the console, and the test reads those reports.
		await page.evaluate(() => {
			const button = document.querySelector('form[action="/api/auth/plex/start"] button')!;
			const report = () =>
				console.log(
					'plex-button ' +
						JSON.stringify({
							label: button.textContent?.trim(),
							disabled: (button as HTMLButtonElement).disabled,
							ariaBusy: button.getAttribute('aria-busy')
						})
				);
			const observer = new MutationObserver(report);
			observer.observe(button, { attributes: true, childList: true, subtree: true });
		});
		const busyShown = page.waitForEvent('console', (message) => {
			const [tag, state] = message.text().split(/ (.*)/);
			return tag === 'plex-button' && JSON.parse(state).label === 'Opening Plex…';
		});
		// The click returns only once the navigation is answered, so it is not awaited yet.
		const clicked = button.click();
		const shown = JSON.parse((await busyShown).text().split(/ (.*)/)[1]);
		expect(shown).toEqual({ label: 'Opening Plex…', disabled: true, ariaBusy: 'true' });

		// Coming back with Back shows the page from the back/forward cache as it was left: busy.
		// The cache cannot be relied on here (chromium did not keep the page in the test run),
		// so the post is answered "204 No Content" (the browser stays, the button still busy)
		// and the page gets the event a return from the cache brings.
		release({ status: 204 });
		await clicked;
		await expect(page).toHaveURL(pathEquals('/setup'));
		await expect(plex.getByRole('button', { name: 'Opening Plex…' })).toBeDisabled();
		await page.evaluate(() =>
			dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))
		);
		await expect(button).toBeEnabled();
		await expect(button).toHaveAttribute('aria-busy', 'false');
	});
});
