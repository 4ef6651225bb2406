// ORIGIN set to another address than the one in the browser's bar (the compose file's example
// opened at http://localhost:3000, say): every page warns before anything is typed, naming both
// addresses and the two ways out; where they match, nothing is shown.
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';
import { expect, gotoReady, test as base } from './fixtures';
import { env } from './steps';

const EXAMPLE = 'https://librariarr.example.com';

/** An app on the e2e database whose ORIGIN is the compose file's example. */
const test = base.extend<{ elsewhere: { url: string } }>({
	// eslint-disable-next-line no-empty-pattern
	elsewhere: async ({}, use) => {
		const app = await startServer({
			databaseUrl: env('E2E_DATABASE_URL'),
			env: { ORIGIN: EXAMPLE, LOG_LEVEL: 'warn' }
		});
		try {
			await use(app);
		} finally {
			await app.stop();
		}
	}
});

test.describe('a page opened at another address than ORIGIN', () => {
	test('the setup page says so before anything is typed, with both addresses', async ({
		page,
		elsewhere,
		jsEnabled
	}) => {
		await gotoReady(page, `${elsewhere.url}/setup`, jsEnabled);
		const banner = page.getByTestId('origin-mismatch');
		await expect(banner).toBeVisible();
		await expect(banner).toContainText(
			`This page is open at ${elsewhere.url}, but ORIGIN is ${EXAMPLE}: forms here will be refused.`
		);
		await expect(banner).toContainText(`set ORIGIN=${elsewhere.url} and restart`);
		await expect(banner.getByRole('link', { name: EXAMPLE })).toHaveAttribute('href', EXAMPLE);
		await expect(banner.getByRole('alert')).toBeVisible(); // read out by screen readers
	});

	test('the login page says so too', async ({ page, elsewhere, admin: _admin, jsEnabled }) => {
		await gotoReady(page, `${elsewhere.url}/login`, jsEnabled);
		await expect(page.getByTestId('origin-mismatch')).toContainText(`ORIGIN is ${EXAMPLE}`);
	});

	test('where the address matches ORIGIN, or ORIGIN is unset, nothing is shown', async ({
		page,
		jsEnabled
	}) => {
		// ORIGIN unset: the e2e app itself
		await gotoReady(page, '/setup', jsEnabled);
		await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
		await expect(page.getByTestId('origin-mismatch')).toHaveCount(0);

		const port = await freePort();
		const matching = await startServer({
			databaseUrl: env('E2E_DATABASE_URL'),
			port,
			env: { LOG_LEVEL: 'warn', ORIGIN: `http://127.0.0.1:${port}` }
		});
		try {
			await gotoReady(page, `${matching.url}/setup`, jsEnabled);
			await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
			await expect(page.getByTestId('origin-mismatch')).toHaveCount(0);
		} finally {
			await matching.stop();
		}
	});
});
