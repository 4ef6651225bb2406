// API keys in a real browser, JavaScript on and off: made on Settings → Security, shown once
// (copied with the button with JavaScript, read from the page without), used from outside the
// browser with Node's fetch as a script would, and revoked.
import { expect, expectNoSeriousA11yViolations, gotoReady, signIn, test } from './fixtures';

const KEY = /^lbr_[A-Za-z0-9_-]{43}$/;

test('create a key, copy it, use it from a script, revoke it', async ({
	page,
	context,
	admin,
	jsEnabled,
	baseURL
}) => {
	await signIn(page, jsEnabled, admin);
	await gotoReady(page, '/settings/security', jsEnabled);
	const card = page.getByRole('region', { name: 'API keys' });
	await expect(card.getByTestId('no-api-keys')).toBeVisible();
	await card.getByLabel('Name of the new key').fill('Homepage');
	await card.getByLabel('What it may do').selectOption('full');
	await card.getByLabel('Expires').selectOption('30');
	await card.getByRole('button', { name: 'Create an API key' }).click();
	await expect(card.getByRole('status')).toContainText('shown only this once');

	const shown = card.getByTestId('api-key-value');
	const key = await shown.inputValue();
	expect(key).toMatch(KEY);
	if (jsEnabled) {
		await context.grantPermissions(['clipboard-read', 'clipboard-write']);
		await card.getByRole('button', { name: 'Copy the key' }).click();
		await expect(card.getByRole('button', { name: 'Copied' })).toBeVisible();
		expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
	} else {
		await expect(card.getByRole('button', { name: 'Copy the key' })).toHaveCount(0);
	}
	await expectNoSeriousA11yViolations(page, 'the API keys card with a new key', jsEnabled);

	// A script, outside the browser: no cookie, the key in the header.
	const status = await fetch(`${baseURL}/api/v1/system/status`, { headers: { 'x-api-key': key } });
	expect(status.status).toBe(200);
	expect((await status.json()).database).toBe('ok');
	const backup = await fetch(`${baseURL}/api/v1/backups`, {
		method: 'POST',
		headers: { authorization: `Bearer ${key}` }
	});
	expect(backup.status).toBe(201);

	// The list names it by its prefix only, with its last use; the key is not shown again.
	await gotoReady(page, '/settings/security', jsEnabled);
	const row = card.locator(`[data-api-key="${key.slice(0, 12)}"]`);
	await expect(row).toContainText('Homepage');
	await expect(row).toContainText('last used');
	await expect(row).not.toContainText('never expires');
	await expect(page.getByTestId('api-key-value')).toHaveCount(0);
	expect(await page.content()).not.toContain(key);

	await row.locator('summary').click();
	await row.getByRole('button', { name: /^Revoke this key/ }).click();
	await expect(card.getByRole('status')).toContainText('it no longer works');
	await expect(card.getByTestId('api-key-revoked')).toBeVisible();

	const refused = await fetch(`${baseURL}/api/v1/system/status`, {
		headers: { 'x-api-key': key }
	});
	expect(refused.status).toBe(401);
	expect((await refused.json()).error).toContain('was revoked');
});
