// Dates are shown one way: `YYYY-MM-DD HH:mm` in a <time datetime>, in the viewer's time zone
// with JavaScript, in UTC and saying so without it.
import { expect, gotoReady, signIn, test } from './fixtures';

// Half an hour off a whole hour, so that a date in the wrong zone cannot pass by accident.
test.use({ timezoneId: 'Asia/Kolkata' });

const KOLKATA_OFFSET_MS = (5 * 60 + 30) * 60_000;

/** The instant as this test expects to read it, worked out without the app's own formatter. */
function shown(iso: string, jsEnabled: boolean) {
	const local = new Date(Date.parse(iso) + (jsEnabled ? KOLKATA_OFFSET_MS : 0));
	const text = local.toISOString().slice(0, 16).replace('T', ' ');
	return jsEnabled ? text : `${text} UTC`;
}

test.describe('dates', () => {
	test('the home page shows when the session began, in the viewer’s zone with JavaScript, in UTC without', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		const since = page.getByTestId('signed-in-since').locator('time');
		const iso = await since.getAttribute('datetime');
		expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
		await expect(since).toHaveText(shown(iso!, jsEnabled));
	});

	test('the backups page shows the last backup and each file the same way', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await sql`update "AppSettings" set "lastBackupAt" = '2026-12-01T19:40:00Z' where id = 1`;
		try {
			await signIn(page, jsEnabled, admin);
			await gotoReady(page, '/settings/backups', jsEnabled);
			const last = page.getByText(/^Last backup:/).locator('time');
			await expect(last).toHaveAttribute('datetime', '2026-12-01T19:40:00.000Z');
			await expect(last).toHaveText(jsEnabled ? '2026-12-02 01:10' : '2026-12-01 19:40 UTC');

			await page.getByRole('button', { name: 'Create backup' }).click();
			await expect(
				page.getByRole('status').filter({ hasText: /Backup librariarr-/ })
			).toBeVisible();
			for (const time of await page.locator('tr[data-backup] time').all()) {
				await expect(time).toHaveText(shown((await time.getAttribute('datetime'))!, jsEnabled));
			}
		} finally {
			await sql`update "AppSettings" set "lastBackupAt" = null where id = 1`;
		}
	});
});
