import { describe, expect, test } from 'vitest';
import { effectiveStates } from '../../src/lib/server/auth/way-state';
import {
	offeredWays,
	type WaysAccount,
	type WaysEnvironment,
	type WaysSettings
} from '../../src/lib/server/rule/ways-in';

const settings = (over: Partial<WaysSettings> = {}): WaysSettings => ({
	localAuthEnabled: true,
	plexLoginEnabled: true,
	ssoEnabled: false,
	ssoMode: 'OIDC',
	ssoConfigured: true,
	...over
});
const admin = (over: Partial<WaysAccount> = {}): WaysAccount[] => [
	{ hasPassword: true, hasPlex: true, ssoLinked: true, ...over }
];
const env = (override = false): WaysEnvironment => ({ override, trustedProxies: false });

describe('the effective state of the local and Plex switches', () => {
	test('local sign-in switched on reads as hidden while SSO is on', () => {
		const { local, plex } = effectiveStates(settings({ ssoEnabled: true }), admin(), env());
		expect(local).toEqual({
			stored: true,
			shown: false,
			text: 'On — hidden on the login page while SSO is on'
		});
		// The Plex button stays beside the SSO button.
		expect(plex.text).toBe('On — shown on the login page');
	});

	test('with SSO off, a switched-on way with something to sign in with is shown', () => {
		const { local } = effectiveStates(settings(), admin(), env());
		expect(local.text).toBe('On — shown on the login page');
	});

	test('a switched-on way with nothing to sign in with says what is missing', () => {
		const { local, plex } = effectiveStates(
			settings(),
			admin({ hasPassword: false, hasPlex: false }),
			env()
		);
		expect(local.text).toBe('On — hidden on the login page until a password is set');
		expect(plex.text).toBe('On — hidden on the login page until a Plex account is linked');
	});

	test('SSO_DISABLE_OVERRIDE brings a switched-off way back, and says so', () => {
		const { local, plex } = effectiveStates(
			settings({ localAuthEnabled: false, plexLoginEnabled: false, ssoEnabled: true }),
			admin(),
			env(true)
		);
		expect(local.text).toBe(
			'Off — shown on the login page anyway while SSO_DISABLE_OVERRIDE is set'
		);
		expect(plex.shown).toBe(true);
	});

	test('a switched-off way without the override is simply off', () => {
		const { local } = effectiveStates(settings({ localAuthEnabled: false }), admin(), env());
		expect(local.text).toBe('Off — not on the login page');
	});

	test('over every combination, "shown" is the one rule\'s answer and the words start with the switch', () => {
		const bools = [false, true];
		for (const localAuthEnabled of bools)
			for (const plexLoginEnabled of bools)
				for (const ssoEnabled of bools)
					for (const hasPassword of bools)
						for (const hasPlex of bools)
							for (const override of bools) {
								const s = settings({ localAuthEnabled, plexLoginEnabled, ssoEnabled });
								const a = admin({ hasPassword, hasPlex });
								const offered = offeredWays(s, a, env(override));
								const got = effectiveStates(s, a, env(override));
								expect(got.local.shown).toBe(offered.local);
								expect(got.plex.shown).toBe(offered.plex);
								expect(got.local.text.startsWith(localAuthEnabled ? 'On —' : 'Off —')).toBe(true);
								expect(got.plex.text.startsWith(plexLoginEnabled ? 'On —' : 'Off —')).toBe(true);
								expect(got.local.text.includes('shown')).toBe(offered.local);
							}
	});
});
