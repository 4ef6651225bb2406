// Settings → Security, "What the server sees", behind a real TLS-terminating nginx: once in front
// of the app that trusts no proxy (the global-setup instance) and once in front of an instance
// started with TRUSTED_PROXIES=127.0.0.1/32. JavaScript on and off.
import { startServer } from '../helpers/server.js';
import { expect, expectNoSeriousA11yViolations, gotoReady, signIn, test as base } from './fixtures';
import { startTlsProxy, type TlsProxy } from './tls-proxy';

type Stack = {
	/** nginx (https) → the app that trusts no proxy */
	untrusted: TlsProxy;
	/** nginx (https) → an app with TRUSTED_PROXIES=127.0.0.1/32 */
	trusted: TlsProxy;
};

const test = base.extend<object, { stack: Stack }>({
	stack: [
		// eslint-disable-next-line no-empty-pattern
		async ({}, use) => {
			const databaseUrl = process.env.E2E_DATABASE_URL!;
			const directPort = Number(new URL(process.env.E2E_BASE_URL!).port);
			const app = await startServer({ databaseUrl, env: { TRUSTED_PROXIES: '127.0.0.1/32' } });
			const untrusted = await startTlsProxy(directPort);
			const trusted = await startTlsProxy(app.port);
			try {
				await use({ untrusted, trusted });
			} finally {
				await untrusted.stop();
				await trusted.stop();
				await app.stop();
			}
		},
		{ scope: 'worker' }
	]
});

test.use({ ignoreHTTPSErrors: true });

test.describe('what the server sees', () => {
	test('behind https nginx without TRUSTED_PROXIES: the app believes http, and the fix names the proxy', async ({
		page,
		admin,
		jsEnabled,
		stack
	}) => {
		// Signing in through this proxy is refused (the browser's https Origin is not the
		// http origin the app works out), so sign in directly; the cookie is the host's.
		await signIn(page, jsEnabled, admin);
		await gotoReady(page, `${stack.untrusted.url}/settings/security`, jsEnabled);
		const port = stack.untrusted.port;
		await expect(page.getByTestId('seen-peer')).toHaveText('127.0.0.1, not in TRUSTED_PROXIES');
		await expect(page.getByTestId('seen-x-forwarded-proto')).toHaveText('https');
		await expect(page.getByTestId('seen-x-forwarded-for')).toHaveText('127.0.0.1');
		await expect(page.getByTestId('seen-origin')).toContainText(
			`http://127.0.0.1:${port}, from the request’s Host header`
		);
		await expect(page.getByTestId('seen-redirect-uri')).toHaveText(
			`http://127.0.0.1:${port}/api/auth/sso/oidc/callback`
		);
		await expect(page.getByTestId('seen-secure')).toContainText('No');
		await expect(page.getByTestId('seen-trusted-proxies')).toHaveText('empty: no proxy is trusted');
		const problem = page.locator('[data-problem="https_unseen"]');
		await expect(problem).toContainText('reached over https (says X-Forwarded-Proto)');
		await expect(problem).toContainText('Fix: add your proxy: TRUSTED_PROXIES=127.0.0.1');
		await expectNoSeriousA11yViolations(page, 'what the server sees, with a problem', jsEnabled);
	});

	test('behind https nginx listed in TRUSTED_PROXIES: https origin from the proxy, Secure cookies, no problems', async ({
		page,
		admin,
		jsEnabled,
		sql,
		stack
	}) => {
		const url = stack.trusted.url;
		await signIn(page, jsEnabled, admin, { path: `${url}/login` });
		await gotoReady(page, `${url}/settings/security`, jsEnabled);
		await expect(page.getByTestId('no-problems')).toBeVisible();
		await expect(page.getByTestId('seen-peer')).toHaveText('127.0.0.1, in TRUSTED_PROXIES');
		await expect(page.getByTestId('seen-client')).toHaveText('127.0.0.1');
		await expect(page.getByTestId('seen-origin')).toContainText(`${url}, from the trusted proxy`);
		await expect(page.getByTestId('seen-redirect-uri')).toHaveText(
			`${url}/api/auth/sso/oidc/callback`
		);
		await expect(page.getByTestId('seen-secure')).toHaveText('Yes: the public origin is https');
		await expect(page.getByTestId('seen-trusted-proxies')).toHaveText('127.0.0.1/32');
		const cookies = await page.context().cookies(url);
		expect(cookies.find((c) => c.name === 'librariarr_session')?.secure).toBe(true);

		// In forward-auth mode the identity headers are listed: this nginx sends none.
		await sql`update "AppSettings" set "ssoMode" = 'FORWARD_AUTH' where id = 1`;
		await gotoReady(page, `${url}/settings/security`, jsEnabled);
		await expect(page.getByTestId('seen-forward-user')).toHaveText('Remote-User: not sent');
		await expect(page.locator('[data-problem="forward_user_missing"]')).toContainText(
			'this request has no Remote-User header'
		);
	});
});
