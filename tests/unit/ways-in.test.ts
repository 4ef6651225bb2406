import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
	locksOut,
	offeredWays,
	waysInFor,
	type WaysAccount,
	type WaysEnvironment,
	type WaysSettings
} from '../../src/lib/server/rule/ways-in';
import { FORWARD_AUTH_ISSUER, identityFits } from '../../src/lib/server/rule/linked';

const bools = [false, true];

/** Every combination of settings, one account and the environment (2^11 cases). */
function* everyCase(): Generator<[WaysSettings, WaysAccount, WaysEnvironment]> {
	for (const localAuthEnabled of bools)
		for (const plexLoginEnabled of bools)
			for (const ssoEnabled of bools)
				for (const ssoMode of ['OIDC', 'FORWARD_AUTH'] as const)
					for (const ssoConfigured of bools)
						for (const hasPassword of bools)
							for (const hasPlex of bools)
								for (const ssoLinked of bools)
									for (const passkeys of [0, 1])
										for (const override of bools)
											for (const trustedProxies of bools)
												yield [
													{
														localAuthEnabled,
														plexLoginEnabled,
														ssoEnabled,
														ssoMode,
														ssoConfigured: ssoMode === 'FORWARD_AUTH' || ssoConfigured,
														passkeyLoginEnabled: true
													},
													{ hasPassword, hasPlex, ssoLinked, passkeys },
													{ override, trustedProxies }
												];
}

const base: WaysSettings = {
	localAuthEnabled: true,
	plexLoginEnabled: false,
	ssoEnabled: false,
	ssoMode: 'OIDC',
	ssoConfigured: false
};
const admin: WaysAccount = { hasPassword: true, hasPlex: false, ssoLinked: false };
const plain: WaysEnvironment = { override: false, trustedProxies: false };

describe('the one rule for ways in', () => {
	test('a fresh install offers the password form and nothing else', () => {
		expect(offeredWays(base, [admin], plain)).toEqual({
			local: true,
			plex: false,
			sso: 'off',
			passkey: false
		});
		expect(waysInFor(base, admin, plain)).toEqual(['local']);
	});

	test('SSO switched on replaces the password form but not the Plex button', () => {
		const settings = { ...base, plexLoginEnabled: true, ssoEnabled: true, ssoConfigured: true };
		const account = { ...admin, hasPlex: true, ssoLinked: true };
		expect(offeredWays(settings, [account], plain)).toMatchObject({
			local: false,
			plex: true,
			sso: 'enabled'
		});
		expect(waysInFor(settings, account, plain)).toEqual(['plex', 'sso']);
	});

	test('a saved configuration with nobody linked offers the SSO button as a probe that signs nobody in', () => {
		const settings = { ...base, ssoConfigured: true };
		expect(offeredWays(settings, [admin], plain).sso).toBe('probe');
		expect(waysInFor(settings, admin, plain)).not.toContain('sso');
		expect(offeredWays(settings, [{ ...admin, ssoLinked: true }], plain).sso).toBe('off');
	});

	test('forward auth without a trusted proxy is never a way in', () => {
		const settings = {
			...base,
			ssoEnabled: true,
			ssoMode: 'FORWARD_AUTH' as const,
			ssoConfigured: true
		};
		const account = { ...admin, ssoLinked: true };
		expect(waysInFor(settings, account, plain)).toEqual([]);
		expect(waysInFor(settings, account, { ...plain, trustedProxies: true })).toEqual(['sso']);
		expect(locksOut(settings, account, plain)).toBe(true);
	});

	test('the override turns SSO off and brings back the password form and the Plex button whatever their toggles say', () => {
		const settings = {
			...base,
			localAuthEnabled: false,
			ssoEnabled: true,
			ssoConfigured: true
		};
		const account = { ...admin, hasPlex: true, ssoLinked: true };
		expect(offeredWays(settings, [account], { ...plain, override: true })).toEqual({
			local: true,
			plex: true,
			sso: 'off',
			passkey: false
		});
	});

	test('the lock-out check looks past the override: SSO does not count, the toggles count as stored', () => {
		const settings = { ...base, localAuthEnabled: false, ssoEnabled: true, ssoConfigured: true };
		const account = { ...admin, ssoLinked: true };
		expect(locksOut(settings, account, plain)).toBe(false);
		expect(locksOut(settings, account, { ...plain, override: true })).toBe(true);
	});

	test('a passkey is a way in only while passkey sign-in is allowed', () => {
		const settings = { ...base, localAuthEnabled: false, passkeyLoginEnabled: true };
		const account = { ...admin, passkeys: 1 };
		expect(waysInFor(settings, account, plain)).toEqual(['passkey']);
		expect(waysInFor({ ...settings, passkeyLoginEnabled: false }, account, plain)).toEqual([]);
	});

	test('over every combination: a way in is always a way the login page offers, and credentials the account lacks never count', () => {
		let cases = 0;
		for (const [settings, account, env] of everyCase()) {
			cases++;
			const offered = offeredWays(settings, [account], env);
			const ways = waysInFor(settings, account, env);
			if (ways.includes('local')) expect(offered.local && account.hasPassword).toBe(true);
			if (ways.includes('plex')) expect(offered.plex && account.hasPlex).toBe(true);
			if (ways.includes('sso')) {
				expect(offered.sso).toBe('enabled');
				expect(account.ssoLinked && !env.override).toBe(true);
			}
			if (ways.includes('passkey')) expect(account.passkeys).toBeGreaterThan(0);
			if (offered.sso === 'enabled') expect(offered.local).toBe(false);
			if (env.override) expect(offered.sso).toBe('off');
			// What the lock-out check accepts still has a way in once the override is gone.
			if (!locksOut(settings, account, env)) {
				const lasting = { ...settings, ssoEnabled: settings.ssoEnabled && !env.override };
				expect(waysInFor(lasting, account, { ...env, override: false }).length).toBeGreaterThan(0);
			}
		}
		expect(cases).toBe(2 ** 11);
	});
});

describe("the recovery script's copy of the rule", () => {
	/** A function as reset-auth.js carries it (the script cannot import the app's modules). */
	function scriptCopy<T>(name: string, prelude = ''): T {
		const text = fs.readFileSync('scripts/reset-auth.js', 'utf8');
		const marker = new RegExp(
			`// ---- BEGIN copy of ${name}\\(\\)[^\\n]*\\n([\\s\\S]*?)// ---- END copy`
		);
		const match = marker.exec(text);
		if (!match) throw new Error(`reset-auth.js no longer marks its copy of ${name}()`);
		return new Function(`${prelude}${match[1]}\nreturn ${name};`)();
	}

	test('judges SSO links as the app does, for every mode, issuer and link', () => {
		const copy = scriptCopy<typeof identityFits>(
			'identityFits',
			`const FORWARD_AUTH_ISSUER = ${JSON.stringify(FORWARD_AUTH_ISSUER)};\n`
		);
		const common = 'https://login.microsoftonline.com/common/v2.0';
		const issuers = [
			null,
			'https://idp.example.com',
			'https://idp.example.com/',
			'https://idp.example.com/realms/home',
			common,
			common.replace('common', 'organizations'),
			common.replace('common', 'tenant-a'),
			common.replace('common', 'consumers').replace('/v2.0', ''),
			'https://login.microsoftonline.com/tenant-a/v2.0/',
			'https://other.example.com/common/v2.0',
			FORWARD_AUTH_ISSUER,
			'not a url'
		];
		let cases = 0;
		for (const mode of ['OIDC', 'FORWARD_AUTH'] as const)
			for (const configured of issuers)
				for (const provider of [null, 'oidc', 'forward-auth'])
					for (const linked of issuers)
						for (const subject of [null, 'alice']) {
							const user = { ssoProvider: provider, ssoIssuer: linked, ssoSubject: subject };
							expect(copy(user, mode, configured), JSON.stringify({ mode, configured, user })).toBe(
								identityFits(user, mode, configured)
							);
							cases++;
						}
		expect(cases).toBe(2 * 12 * 3 * 12 * 2);
	});

	test('agrees with the app over every combination of settings, environment and up to two accounts', () => {
		const copy = scriptCopy<typeof offeredWays>('offeredWays');
		const accounts: WaysAccount[] = [];
		for (const hasPassword of bools)
			for (const hasPlex of bools)
				for (const ssoLinked of bools)
					for (const passkeys of [0, 1])
						accounts.push({ hasPassword, hasPlex, ssoLinked, passkeys });
		let cases = 0;
		for (const [settings, , env] of everyCase()) {
			if (settings.ssoMode === 'FORWARD_AUTH' && !settings.ssoConfigured) continue;
			for (const passkeyLoginEnabled of bools)
				for (const a of accounts)
					for (const others of [[], [accounts[cases % accounts.length]]]) {
						const s = { ...settings, passkeyLoginEnabled };
						const list = [a, ...others];
						expect(copy(s, list, env), JSON.stringify({ s, list, env })).toEqual(
							offeredWays(s, list, env)
						);
						cases++;
					}
		}
		expect(cases).toBeGreaterThan(10_000);
	});
});
