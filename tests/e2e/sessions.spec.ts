// The session policy in a real browser, JavaScript on and off: "Keep me signed in" on the login
// form (a browser-session cookie when unchecked) and the Sessions card of Settings → Security
// (shortening saves at once; a longer lifetime asks for the current password first).
import {
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	signIn,
	test
} from './fixtures';

test('Keep me signed in: checked by default; unchecked, the cookie ends with the browser', async ({
	page,
	admin,
	jsEnabled,
	sql
}) => {
	const sessionCookie = async () =>
		(await page.context().cookies()).find((c) => c.name === 'librariarr_session');
	// Left checked: a cookie with an expiry.
	await signIn(page, jsEnabled, admin);
	expect((await sessionCookie())?.expires).toBeGreaterThan(Date.now() / 1000 + 29 * 86400);

	// Unchecked (another visit, without the cookie): a browser-session cookie, 12 hours at most.
	await page.context().clearCookies();
	await gotoReady(page, '/login', jsEnabled);
	const box = page.getByRole('checkbox', { name: 'Keep me signed in' });
	await expect(box).toBeChecked();
	await expectNoSeriousA11yViolations(page, 'the login form', jsEnabled);
	await page.getByLabel('Username', { exact: true }).fill(admin.username);
	await page.getByLabel('Password', { exact: true }).fill(admin.password);
	await box.uncheck();
	await page.getByRole('button', { name: 'Sign in', exact: true }).click();
	await expect(page).toHaveURL(pathEquals('/'));
	expect((await sessionCookie())?.expires).toBe(-1);
	const rows = await sql`select "keepSignedIn" from "Session" order by "createdAt"`;
	expect(rows.map((r) => r.keepSignedIn)).toEqual([true, false]);
});

test('the Sessions card: a shorter policy saves at once, a longer one asks who you are', async ({
	page,
	admin,
	jsEnabled,
	sql
}) => {
	await signIn(page, jsEnabled, admin);
	// Past the five minutes in which the sign-in itself counts as proof.
	await sql`update "Session" set "createdAt" = now() - interval '1 hour'`;
	await gotoReady(page, '/settings/security', jsEnabled);
	const card = page.getByRole('region', { name: 'Sessions', exact: true });
	await expect(card).toContainText('accurate to the hour');
	await expect(card.getByLabel(/^Absolute lifetime/)).toHaveValue('720');
	await expect(card.getByLabel(/^Idle timeout/)).toHaveValue('off');

	await card.getByLabel(/^Absolute lifetime/).selectOption('168');
	await card.getByLabel(/^Idle timeout/).selectOption('8');
	await card.getByRole('button', { name: 'Save session policy' }).click();
	await expect(card.getByRole('status')).toContainText(
		'Sessions now last 7 days from sign-in, with an idle timeout of 8 hours.'
	);
	expect(await sql`select "sessionLifetimeHours", "sessionIdleHours" from "AppSettings"`).toEqual([
		{ sessionLifetimeHours: 168, sessionIdleHours: 8 }
	]);

	await gotoReady(page, '/settings/security', jsEnabled);
	await card.getByLabel(/^Absolute lifetime/).selectOption('2160');
	await card.getByRole('button', { name: 'Save session policy' }).click();
	const stepUp = card.getByTestId('step-up');
	await expect(stepUp).toBeVisible();
	// The choice stays as it was sent, and nothing was saved.
	await expect(card.getByLabel(/^Absolute lifetime/)).toHaveValue('2160');
	expect(await sql`select "sessionLifetimeHours" from "AppSettings"`).toEqual([
		{ sessionLifetimeHours: 168 }
	]);
	await expectNoSeriousA11yViolations(page, 'the Sessions card asking for step-up', jsEnabled);
	await stepUp.getByLabel('Current password').fill(admin.password);
	await card.getByRole('button', { name: 'Save session policy' }).click();
	await expect(card.getByRole('status')).toContainText('Sessions now last 90 days from sign-in');
	expect(await sql`select "sessionLifetimeHours" from "AppSettings"`).toEqual([
		{ sessionLifetimeHours: 2160 }
	]);
});
