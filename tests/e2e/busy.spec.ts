// Forms that wait on the network say so while they wait (with JavaScript: the button is disabled,
// marked aria-busy and relabelled; without it the browser shows its own progress).
import type { Page } from '@playwright/test';
import { expect, gotoReady, pathEquals, test } from './fixtures';

/** Holds every POST to `path` until the returned function is called. */
async function holdPosts(page: Page, path: string) {
	let release!: () => void;
	const held = new Promise<void>((resolve) => (release = resolve));
	await page.route(
		(url) => url.pathname === path,
		async (route) => {
			if (route.request().method() === 'POST') await held;
			await route.continue();
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
		const release = await holdPosts(page, '/setup');
		await page.getByRole('button', { name: 'Create account' }).click();
		if (jsEnabled) {
			const busy = page.getByRole('button', { name: 'Creating account…' });
			await expect(busy).toBeDisabled();
			await expect(busy).toHaveAttribute('aria-busy', 'true');
		}
		release();
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
		await button.click();
		const busy = plex.getByRole('button', { name: 'Opening Plex…' });
		await expect(busy).toBeDisabled();
		await expect(busy).toHaveAttribute('aria-busy', 'true');
		release();
	});
});
