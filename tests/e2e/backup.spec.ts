// Settings → Backups and the first-run "Restore from Backup" page in a real browser, with
// JavaScript on (enhanced forms, the busy state) and off (plain form posts).
import {
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	signIn,
	test
} from './fixtures';

test.describe('backups', () => {
	test('create a backup, see it listed, restore it with progress shown, and land on /login', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/backups', jsEnabled);
		await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings → Backups');
		await expectNoSeriousA11yViolations(page, '/settings/backups', jsEnabled);

		await page.getByRole('button', { name: 'Create backup' }).click();
		const created = page.getByRole('status').filter({ hasText: /Backup librariarr-.* created/ });
		await expect(created).toBeVisible();
		const name = /Backup (librariarr-\S+) created/.exec((await created.textContent()) ?? '')![1];
		await expect(page.locator(`tr[data-backup="${name}"]`)).toContainText('No');

		// restore the backup just made, from the folder list
		await page.getByLabel('Backup from the folder').selectOption(name);
		await page.getByLabel('Passphrase (encrypted backups only)').fill('');
		await page.getByLabel(/I understand/).check();
		if (jsEnabled) {
			// hold the request a moment so the submitting state can be seen
			await page.route('**/settings/backups?/restore', async (route) => {
				await new Promise((r) => setTimeout(r, 700));
				await route.continue();
			});
		}
		await page.getByRole('button', { name: 'Restore backup' }).click();
		if (jsEnabled) {
			await expect(page.locator('form[action="?/restore"]')).toHaveAttribute('aria-busy', 'true');
			await expect(page.getByText('Restoring the backup, please wait…')).toBeVisible();
		}
		await expect(page).toHaveURL(pathEquals('/login'));
		// the old session is gone
		await page.goto('/settings/backups');
		await expect(page).toHaveURL(/\/login/);
	});

	test('deleting a backup takes a confirmation step, with or without JavaScript', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/backups', jsEnabled);
		await page.getByRole('button', { name: 'Create backup' }).click();
		const created = page.getByRole('status').filter({ hasText: /Backup librariarr-.* created/ });
		await expect(created).toBeVisible();
		const name = /Backup (librariarr-\S+) created/.exec((await created.textContent()) ?? '')![1];
		const row = page.locator(`tr[data-backup="${name}"]`);

		// the first press only opens the warning; nothing is deleted yet
		const confirm = row.getByRole('button', { name: `Delete this backup ${name}` });
		await expect(confirm).toBeHidden();
		await row.locator('summary').click();
		await expect(row.getByText('removes the file from the backup folder for good')).toBeVisible();
		await expect(row).toBeVisible();

		await confirm.click();
		await expect(page.getByRole('status').filter({ hasText: 'deleted' })).toBeVisible();
		await expect(page.locator(`tr[data-backup="${name}"]`)).toHaveCount(0);
	});

	test('the first-run page offers Restore from Backup and lists names only', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/backups', jsEnabled);
		await page.getByRole('button', { name: 'Create backup' }).click();
		const created = page.getByRole('status').filter({ hasText: /Backup librariarr-.* created/ });
		const name = /Backup (librariarr-\S+) created/.exec((await created.textContent()) ?? '')![1];

		await sql`delete from "User"`;
		await gotoReady(page, '/login', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/setup'));
		await page.getByRole('link', { name: 'Restore from Backup' }).click();
		await expect(page).toHaveURL(pathEquals('/setup/restore'));
		await expectNoSeriousA11yViolations(page, '/setup/restore', jsEnabled);
		await expect(page.getByRole('option', { name })).toBeAttached();
		await page.getByLabel('Backup from the backups folder').selectOption(name);
		await page.getByRole('button', { name: 'Restore from Backup' }).click();
		await expect(page).toHaveURL(pathEquals('/login'));
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/setup/restore', jsEnabled);
		await expect(page).toHaveURL(pathEquals('/settings/backups'));
	});
});

test.describe('audit retention', () => {
	test('the Audit trail card shows 90 days, saves a new number, and says so', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await sql`
			insert into "AuditEvent" (event, "occurredAt") values ('ancient', now() - interval '40 days')
		`;
		await gotoReady(page, '/settings/backups', jsEnabled);
		const days = page.getByLabel('Keep audit entries for (days)');
		await expect(days).toHaveValue('90');
		await days.fill('30');
		await page.getByRole('button', { name: 'Save audit retention' }).click();
		await expect(
			page.getByRole('status').filter({ hasText: 'Audit entries are kept for 30 days.' })
		).toContainText('1 older entry was removed.');
		const [row] = await sql`select "auditRetentionDays" from "AppSettings"`;
		expect(row.auditRetentionDays).toBe(30);
		expect(await sql`select 1 from "AuditEvent" where event = 'ancient'`).toHaveLength(0);
		await gotoReady(page, '/settings/backups', jsEnabled);
		await expect(days).toHaveValue('30');
	});

	test('a value the server refuses is shown beside the field, and nothing is saved', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/backups', jsEnabled);
		const days = page.getByLabel('Keep audit entries for (days)');
		// The browser's own check (min 1) would stop "0" before it is sent: let it through once, as
		// an old browser or a hand-made request would.
		await page.locator('form[action="?/auditRetention"]').evaluate((form) => {
			(form as HTMLFormElement).noValidate = true;
		});
		await days.fill('0');
		await page.getByRole('button', { name: 'Save audit retention' }).click();
		await expect(page.locator('#auditRetentionDays-error')).toHaveText(
			'Keep audit entries for 1 to 3650 days (a whole number).'
		);
		await expect(days).toHaveAttribute('aria-invalid', 'true');
		const [row] = await sql`select "auditRetentionDays" from "AppSettings"`;
		expect(row.auditRetentionDays).toBe(90);
	});
});
