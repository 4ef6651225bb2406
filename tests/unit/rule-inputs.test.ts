import { describe, expect, test } from 'vitest';
import {
	accountWays,
	fallbackOnceSsoIsOff,
	offered,
	wouldLockOut,
	type RuleInputs,
	type StoredAccount
} from '../../src/lib/server/rule/inputs';

const ISSUER = 'https://idp.example.com';

const none: RuleInputs = {
	settings: {
		localAuthEnabled: false,
		plexLoginEnabled: false,
		passkeyLoginEnabled: false,
		ssoEnabled: false,
		ssoMode: 'OIDC',
		oidcIssuer: ISSUER,
		oidcClientId: 'lib'
	},
	account: {
		hasPassword: false,
		hasPlex: false,
		ssoProvider: null,
		ssoIssuer: null,
		ssoSubject: null,
		passkeys: 0
	},
	everyone: { anyPassword: false, anyPlex: false, anyPasskey: false, links: [] },
	env: { override: false, trustedProxies: false },
	page: { ssoButtonText: 'SSO', ssoAutoRedirect: false }
};

const oidcLink = { ssoProvider: 'oidc', ssoIssuer: `${ISSUER}/`, ssoSubject: 'alice' };

function withAccount(
	change: Partial<StoredAccount>,
	settings: Partial<RuleInputs['settings']> = {}
) {
	return {
		...none,
		settings: { ...none.settings, ...settings },
		account: { ...none.account!, ...change }
	};
}

describe("the rule's inputs, as stored", () => {
	test('a way counts only when it is both switched on and usable', () => {
		expect(accountWays(withAccount({}, { localAuthEnabled: true }))).toEqual([]);
		expect(accountWays(withAccount({ hasPassword: true }))).toEqual([]);
		expect(accountWays(withAccount({ hasPassword: true }, { localAuthEnabled: true }))).toEqual([
			'local'
		]);
		expect(accountWays(withAccount({ hasPlex: true }, { plexLoginEnabled: true }))).toEqual([
			'plex'
		]);
		expect(accountWays(withAccount(oidcLink, { ssoEnabled: true }))).toEqual(['sso']);
		expect(accountWays(withAccount({ passkeys: 2 }))).toEqual([]);
		expect(accountWays(withAccount({ passkeys: 1 }, { passkeyLoginEnabled: true }))).toEqual([
			'passkey'
		]);
	});

	test('an SSO link counts only for the saved mode and issuer', () => {
		const on = { ssoEnabled: true };
		expect(wouldLockOut(withAccount(oidcLink, on))).toBe(false);
		expect(wouldLockOut(withAccount(oidcLink, { ...on, oidcIssuer: 'https://other' }))).toBe(true);
		expect(wouldLockOut(withAccount(oidcLink, { ...on, ssoMode: 'FORWARD_AUTH' }))).toBe(true);
		// A multi-tenant configuration covers the tenant the admin linked with.
		const common = 'https://login.microsoftonline.com/common/v2.0';
		const tenant = {
			ssoProvider: 'oidc',
			ssoIssuer: common.replace('common', 'abc'),
			ssoSubject: 's'
		};
		expect(wouldLockOut(withAccount(tenant, { ...on, oidcIssuer: common }))).toBe(false);
	});

	test('switching SSO off counts a passkey as the way that is left', () => {
		const ssoAndPasskey = withAccount(
			{ ...oidcLink, passkeys: 1 },
			{ ssoEnabled: true, passkeyLoginEnabled: true }
		);
		expect(fallbackOnceSsoIsOff(ssoAndPasskey)).toEqual({ local: false, plex: false });
		const ssoOnly = withAccount(oidcLink, { ssoEnabled: true });
		expect(fallbackOnceSsoIsOff(ssoOnly)).toBeNull();
		const withPassword = withAccount({ ...oidcLink, hasPassword: true }, { ssoEnabled: true });
		expect(fallbackOnceSsoIsOff(withPassword)).toEqual({ local: true, plex: false });
	});

	test('the login page folds everyone into one account', () => {
		const page = {
			...none,
			settings: { ...none.settings, localAuthEnabled: true, passkeyLoginEnabled: true },
			everyone: { ...none.everyone, anyPassword: true, anyPasskey: true }
		};
		expect(offered(page)).toEqual({ local: true, plex: false, sso: 'probe', passkey: true });
		const linked = { ...page, everyone: { ...page.everyone, links: [oidcLink] } };
		expect(offered(linked).sso).toBe('off');
	});
});
