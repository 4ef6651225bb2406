import { describe, expect, test } from 'vitest';
import { locksOut, workingMethods, type LoginState } from '../../src/lib/server/auth/lockout';

const none: LoginState = {
	localAuthEnabled: false,
	hasPassword: false,
	plexLoginEnabled: false,
	hasPlex: false,
	ssoEnabled: false,
	ssoLinked: false,
	passkeyLoginEnabled: false,
	passkeys: 0
};

describe('the last way in is never removed', () => {
	test('a method counts only when it is both enabled and usable', () => {
		expect(workingMethods({ ...none, localAuthEnabled: true })).toEqual([]);
		expect(workingMethods({ ...none, hasPassword: true })).toEqual([]);
		expect(workingMethods({ ...none, localAuthEnabled: true, hasPassword: true })).toEqual([
			'local'
		]);
		expect(workingMethods({ ...none, plexLoginEnabled: true, hasPlex: true })).toEqual(['plex']);
		expect(workingMethods({ ...none, ssoEnabled: true, ssoLinked: true })).toEqual(['sso']);
		expect(workingMethods({ ...none, passkeyLoginEnabled: true })).toEqual([]);
		expect(workingMethods({ ...none, passkeys: 2 })).toEqual([]);
		expect(workingMethods({ ...none, passkeyLoginEnabled: true, passkeys: 1 })).toEqual([
			'passkey'
		]);
	});

	test('every combination: locked out exactly when no method works', () => {
		const keys = Object.keys(none) as (keyof LoginState)[];
		for (let mask = 0; mask < 1 << keys.length; mask++) {
			const state = Object.fromEntries(
				keys.map((k, i) => [
					k,
					k === 'passkeys' ? Number(Boolean(mask & (1 << i))) : Boolean(mask & (1 << i))
				])
			) as unknown as LoginState;
			// SSO, when on, replaces the password form: the password counts only while SSO is off.
			const works =
				(!state.ssoEnabled && state.localAuthEnabled && state.hasPassword) ||
				(state.plexLoginEnabled && state.hasPlex) ||
				(state.ssoEnabled && state.ssoLinked) ||
				(state.passkeyLoginEnabled && state.passkeys! > 0);
			expect(locksOut(state), JSON.stringify(state)).toBe(!works);
		}
	});
});
