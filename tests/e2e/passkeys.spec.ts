import type { CDPSession, Page } from '@playwright/test';
import {
	expect,
	expectNoSeriousA11yViolations,
	gotoReady,
	pathEquals,
	signIn,
	test,
	type Admin
} from './fixtures';
import { snapshotTables } from '../helpers/db-snapshot';

// Passkeys in a real Chromium. Registration and sign-in use Chromium's virtual authenticator
// (DevTools protocol, WebAuthn domain), which needs JavaScript. Browsers refuse an IP address
// as relying-party ID, so those tests reach the server as http://localhost:<port> (a secure
// context, like https) instead of the 127.0.0.1 every other spec uses; the app takes its origin
// from the Host header, as it does without ORIGIN or a proxy. Without JavaScript, the login page
// says passkeys need it, and renaming and deleting still work.

function onLocalhost(path: string) {
	const base = new URL(process.env.E2E_BASE_URL!);
	base.hostname = 'localhost';
	return new URL(path, base).toString();
}

async function virtualAuthenticator(page: Page) {
	const cdp: CDPSession = await page.context().newCDPSession(page);
	await cdp.send('WebAuthn.enable');
	const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
		options: {
			protocol: 'ctap2',
			transport: 'internal',
			hasResidentKey: true,
			hasUserVerification: true,
			isUserVerified: true,
			automaticPresenceSimulation: true
		}
	});
	return {
		credentials: async () =>
			(await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials
	};
}

/** A passkey row straight into the database (for the pages that need one to exist). */
async function insertPasskey(sql: import('postgres').Sql, admin: Admin, name: string) {
	const [row] = await sql<{ id: number }[]>`
		insert into "Passkey" ("userId", "credentialId", "publicKey", "rpId", name, "createdAt")
		values (${admin.id}, ${`cred-${name}`}, '\\x00', '127.0.0.1', ${name}, now() - interval '2 days')
		returning id
	`;
	return row.id;
}

test.describe('passkeys', () => {
	test('added from Settings → Security, then used to sign in from the login page', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		test.setTimeout(120_000);
		test.skip(!jsEnabled, 'WebAuthn needs JavaScript (the nojs project checks the note instead)');
		const authenticator = await virtualAuthenticator(page);
		await signIn(page, jsEnabled, admin, { path: onLocalhost('/login') });

		await gotoReady(page, onLocalhost('/settings/security'), jsEnabled);
		await expect(page.getByTestId('passkey-host')).toContainText('localhost');
		await page.getByLabel('Name of the new passkey').fill('Laptop');
		await page.getByRole('button', { name: 'Add a passkey' }).click();
		await expect(page.getByText('Passkey “Laptop” added.')).toBeVisible();
		await expect(page.locator('[data-passkey="Laptop"]')).toContainText('last used never');
		expect(await authenticator.credentials()).toHaveLength(1);
		const [stored] = await sql`select "rpId", name from "Passkey"`;
		expect(stored).toEqual({ rpId: 'localhost', name: 'Laptop' });
		await expectNoSeriousA11yViolations(page, '/settings/security with a passkey', jsEnabled);

		// Autofill: Chromium's virtual authenticator answers the login page's conditional request
		// on its own, as a user picking the passkey in the username field's suggestions would.
		await page.context().clearCookies();
		await page.goto(onLocalhost('/login?returnTo=%2Fsettings%2Fsecurity'));
		await expect(page).toHaveURL(pathEquals('/settings/security'));
		await expect(page.locator('[data-passkey="Laptop"]')).not.toContainText('last used never');

		// The button, in a browser that offers no autofill.
		await page.context().clearCookies();
		await page.addInitScript(() => {
			PublicKeyCredential.isConditionalMediationAvailable = async () => false;
		});
		await gotoReady(page, onLocalhost('/login'), jsEnabled);
		await expect(page.getByLabel('Username', { exact: true })).toHaveAttribute(
			'autocomplete',
			'username webauthn'
		);
		await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
		await expect(page).toHaveURL(pathEquals('/'));
		const audits = await sql`
			select method from "AuditEvent" where event = 'login.succeeded' order by id
		`;
		expect(audits.map((a) => a.method)).toEqual(['local', 'passkey', 'passkey']);
	});

	test('an older session proves it is you with a passkey before making recovery codes', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		test.skip(!jsEnabled, 'WebAuthn needs JavaScript (the step-up form says so without it)');
		await virtualAuthenticator(page);
		await signIn(page, jsEnabled, admin, { path: onLocalhost('/login') });
		await gotoReady(page, onLocalhost('/settings/security'), jsEnabled);
		await page.getByLabel('Name of the new passkey').fill('Laptop');
		await page.getByRole('button', { name: 'Add a passkey' }).click();
		await expect(page.getByText('Passkey “Laptop” added.')).toBeVisible();

		await sql`update "Session" set "createdAt" = now() - interval '6 minutes', "provedAt" = null`;
		await gotoReady(page, onLocalhost('/settings/security'), jsEnabled);
		const card = page.getByRole('region', { name: 'Recovery codes' });
		await expect(card.getByTestId('step-up')).toContainText(
			'Confirm with your current password or one of your passkeys (this needs JavaScript)'
		);
		await card.getByRole('button', { name: 'Confirm with a passkey' }).click();
		await expect(card.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
		const [session] = await sql`select "provedAt" from "Session"`;
		expect(session.provedAt).not.toBeNull();
	});

	test('the login page offers passkeys only with JavaScript, and only when one exists and passkey sign-in is on', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		const button = page.getByRole('button', { name: 'Sign in with a passkey' });
		// (Playwright's text search skips <noscript>; the test id finds it.)
		const note = page.getByTestId('passkey-noscript');
		await gotoReady(page, '/login', jsEnabled);
		await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
		await expect(button).toHaveCount(0);
		await expect(note).toHaveCount(0);

		await insertPasskey(sql, admin, 'Phone');
		await gotoReady(page, '/login', jsEnabled);
		if (jsEnabled) {
			await expect(button).toBeVisible();
			await expect(note).toHaveCount(0);
		} else {
			await expect(note).toHaveText('Signing in with a passkey needs JavaScript.');
			await expect(note).toBeVisible();
			await expect(button).toHaveCount(0);
		}
		await expectNoSeriousA11yViolations(page, '/login with a passkey', jsEnabled);

		await sql`update "AppSettings" set "passkeyLoginEnabled" = false`;
		await gotoReady(page, '/login', jsEnabled);
		await expect(button).toHaveCount(0);
		await expect(note).toHaveCount(0);
	});

	test('viewing the login page, and asking it for a passkey challenge, writes nothing', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await insertPasskey(sql, admin, 'Phone');
		const before = await snapshotTables(sql);
		await gotoReady(page, '/login', jsEnabled);
		await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
		if (jsEnabled) {
			// The button asks for a challenge (the autofill may have asked already): it lives in this
			// browser's cookie, not in a table.
			const asked = page.waitForResponse(
				(r) => new URL(r.url()).pathname === '/api/auth/passkey/options'
			);
			await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
			expect((await asked).status()).toBe(200);
		}
		expect(await snapshotTables(sql)).toEqual(before);
	});

	test('rename, delete and the switch work as plain forms', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await insertPasskey(sql, admin, 'Old phone');
		await insertPasskey(sql, admin, 'Laptop');
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/security', jsEnabled);
		if (!jsEnabled) {
			await expect(page.getByTestId('passkey-noscript')).toBeVisible();
			await expect(page.getByRole('button', { name: 'Add a passkey' })).toHaveCount(0);
		}

		const row = page.locator('[data-passkey="Old phone"]');
		await row.getByLabel('New name for Old phone').fill('Work phone');
		await row.getByRole('button', { name: 'Rename Old phone' }).click();
		await expect(page.getByText('Renamed to “Work phone”.')).toBeVisible();
		await expect(page.locator('[data-passkey="Work phone"]')).toBeVisible();

		const laptop = page.locator('[data-passkey="Laptop"]');
		await laptop.locator('summary').click();
		await laptop.getByRole('button', { name: 'Delete this passkey Laptop' }).click();
		await expect(page.getByText('The passkey was deleted.')).toBeVisible();
		await expect(page.locator('[data-passkey="Laptop"]')).toHaveCount(0);

		const toggle = page.getByRole('switch', { name: 'Allow passkey sign-in' });
		await expect(toggle).toHaveAttribute('aria-checked', 'true');
		await toggle.click();
		await expect(page.getByText('Passkey sign-in is off.')).toBeVisible();
		await expect(page.getByRole('switch', { name: 'Allow passkey sign-in' })).toHaveAttribute(
			'aria-checked',
			'false'
		);
		const [settings] = await sql`select "passkeyLoginEnabled" from "AppSettings"`;
		expect(settings.passkeyLoginEnabled).toBe(false);
	});

	test('a passkey registered under another host is marked as not working here', async ({
		page,
		admin,
		sql,
		jsEnabled
	}) => {
		await insertPasskey(sql, admin, 'Phone');
		await sql`update "Passkey" set "rpId" = 'old.example.com'`;
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/security', jsEnabled);
		await expect(page.locator('[data-passkey="Phone"]')).toContainText(
			'registered at old.example.com: does not work here'
		);
		await expect(
			page.getByText(/registered under old\.example\.com, not 127\.0\.0\.1/)
		).toBeVisible();
	});

	test('opened at an IP address, the card says browsers refuse passkeys there and names the host to use; Add is disabled', async ({
		page,
		admin,
		jsEnabled
	}) => {
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, '/settings/security', jsEnabled);
		const port = new URL(process.env.E2E_BASE_URL!).port;
		await expect(page.getByTestId('passkey-ip-address')).toHaveText(
			`Browsers do not allow passkeys at an IP address, and this page is open at 127.0.0.1. Open Librariarr at http://localhost:${port} to add or use one.`
		);
		if (jsEnabled) {
			await expect(page.getByRole('button', { name: 'Add a passkey' })).toBeDisabled();
		} else {
			await expect(page.getByTestId('passkey-noscript')).toBeVisible();
		}
		// At a host name, no such words, and the button works.
		await signIn(page, jsEnabled, admin, { path: onLocalhost('/login') });
		await gotoReady(page, onLocalhost('/settings/security'), jsEnabled);
		await expect(page.getByTestId('passkey-host')).toContainText('localhost');
		await expect(page.getByTestId('passkey-ip-address')).toHaveCount(0);
		if (jsEnabled) {
			await expect(page.getByRole('button', { name: 'Add a passkey' })).toBeEnabled();
		}
	});
});
