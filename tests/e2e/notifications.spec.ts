// Settings → Notifications in a real browser, JavaScript on and off: a channel added (a refusal
// first, beside its field), its Send test answered by a real local ntfy stand-in and the answer
// shown, an event switched off, and the channel removed.
import { startReceiver } from '../helpers/alert-receivers';
import { expect, expectNoSeriousA11yViolations, gotoReady, signIn, test } from './fixtures';

test('add a channel, send a test, switch an event off, remove it', async ({
	page,
	admin,
	jsEnabled,
	sql
}) => {
	const ntfy = await startReceiver('ntfy');
	try {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/notifications', jsEnabled);
		const add = page.getByRole('region', { name: 'Add a channel' });
		await add.getByLabel('Kind').selectOption('ntfy');
		await add.getByLabel('Name (optional)').fill('My phone');
		await add.getByLabel('URL').fill(ntfy.url);
		await add.getByLabel('Topic (ntfy only)').fill('bad topic!');
		await add.getByRole('button', { name: 'Add channel' }).click();
		await expect(add.getByText('The topic is 1 to 64')).toBeVisible();
		await expect(add.getByLabel('Topic (ntfy only)')).toHaveAttribute('aria-invalid', 'true');

		await add.getByLabel('URL').fill(ntfy.url);
		await add.getByLabel('Topic (ntfy only)').fill('librariarr');
		await add.getByLabel('Access token (ntfy only, optional)').fill('tk_e2e');
		await add.getByRole('button', { name: 'Add channel' }).click();
		await expect(add.getByText('Channel “My phone” added.')).toBeVisible();

		const channels = page.getByRole('region', { name: 'Channels' });
		await expect(channels).toContainText('My phone');
		await expect(channels).toContainText('ntfy at 127.0.0.1');
		await channels.getByRole('button', { name: 'Send test to My phone' }).click();
		await expect(channels.getByText('Test sent. The answer: HTTP 200')).toBeVisible();
		expect(ntfy.received.at(-1)?.headers.authorization).toBe('Bearer tk_e2e');
		await expectNoSeriousA11yViolations(page, 'the notifications page', jsEnabled);

		const events = page.getByRole('region', { name: 'Events' });
		await events.getByLabel('A restore from a backup').uncheck();
		await events.getByRole('button', { name: 'Save events' }).click();
		await expect(events.getByText('Saved.')).toBeVisible();
		const [row] = await sql`select events from "AlertSettings"`;
		expect(row.events).not.toContain('restore');
		expect(row.events).toContain('new_browser');

		await channels.getByRole('button', { name: 'Remove My phone' }).click();
		await expect(channels.getByText('No channels yet')).toBeVisible();
	} finally {
		await ntfy.stop();
	}
});
