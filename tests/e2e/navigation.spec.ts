// The header has one "Settings" entry; the settings pages have their own sub-navigation.
import { expect, gotoReady, pathEquals, signIn, test } from './fixtures';

test.describe('Navigation', () => {
	test('the main navigation has one Settings entry, current on every settings page; the settings navigation names the sections', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		const main = page.getByRole('navigation', { name: 'Main' });
		await expect(main.getByRole('link')).toHaveText(['Home', 'Settings']);
		await expect(main.getByRole('link', { name: 'Home' })).toHaveAttribute('aria-current', 'page');

		await main.getByRole('link', { name: 'Settings' }).click();
		await expect(page).toHaveURL(pathEquals('/settings/authentication'));
		const sections = page.getByRole('navigation', { name: 'Settings' });
		await expect(sections.getByRole('link')).toHaveText([
			'Authentication',
			'Backups',
			'Notifications',
			'Security'
		]);

		for (const [name, path] of [
			['Backups', '/settings/backups'],
			['Notifications', '/settings/notifications'],
			['Security', '/settings/security'],
			['Authentication', '/settings/authentication']
		]) {
			await sections.getByRole('link', { name }).click();
			await expect(page).toHaveURL(pathEquals(path));
			await expect(sections.getByRole('link', { name })).toHaveAttribute('aria-current', 'page');
			await expect(main.getByRole('link', { name: 'Settings' })).toHaveAttribute(
				'aria-current',
				path === '/settings/authentication' ? 'page' : 'true'
			);
			await expect(main.getByRole('link', { name: 'Home' })).not.toHaveAttribute('aria-current');
		}
	});

	test('/settings opens the first settings section', async ({ page, admin, jsEnabled }) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/settings/authentication'));
	});
});
