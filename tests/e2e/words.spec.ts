// Small words: the backups page names its real folder, a 404 quotes no request ID that was never
// logged, and the setup page says in words which usernames it takes.
import path from 'node:path';
import { expect, gotoReady, signIn, test } from './fixtures';

test.describe('small words', () => {
	test('the backups page names the folder the backups are really in', async ({
		page,
		admin,
		jsEnabled
	}) => {
		// The e2e server runs with this process's CONFIG_DIR (./data when unset) and working folder.
		const folder = path.join(path.resolve(process.env.CONFIG_DIR?.trim() || './data'), 'backups');
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/backups', jsEnabled);
		await expect(page.getByTestId('backup-folder')).toHaveText(folder);
		await expect(page.locator('main')).not.toContainText('CONFIG_DIR');
	});

	test('a page that does not exist shows no request ID (404s are not logged)', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await gotoReady(page, '/no-such-page', jsEnabled);
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
		await expect(page.locator('main')).not.toContainText(/request id/i);

		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/no-such-page', jsEnabled);
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
		await expect(page.locator('main')).not.toContainText(/request id/i);
	});

	test('the setup page says in words which usernames it accepts', async ({ page, jsEnabled }) => {
		await gotoReady(page, '/setup', jsEnabled);
		const hint = page.getByLabel('Username', { exact: true });
		await expect(hint).toHaveAccessibleDescription(
			'3 to 64 characters: letters, digits, dots, underscores, hyphens and the at sign.'
		);
	});
});
