// The rule that keeps an admin from locking themselves out: a change that would leave the user
// with no working way to sign in is refused. Pure logic, so it can be checked exhaustively.

export type LoginState = {
	localAuthEnabled: boolean;
	hasPassword: boolean;
	plexLoginEnabled: boolean;
	hasPlex: boolean;
	ssoEnabled: boolean;
	ssoLinked: boolean;
};

export type Method = 'local' | 'plex' | 'sso';

/** The state of one user under the current settings; SSO counts only when not overridden. */
export function loginStateOf(
	user: { hasPassword: boolean; plexId: string | null; ssoSubject: string | null },
	settings: { localAuthEnabled: boolean; plexLoginEnabled: boolean; ssoEnabled: boolean },
	ssoOverridden: boolean
): LoginState {
	return {
		localAuthEnabled: settings.localAuthEnabled,
		hasPassword: user.hasPassword,
		plexLoginEnabled: settings.plexLoginEnabled,
		hasPlex: user.plexId !== null,
		ssoEnabled: settings.ssoEnabled && !ssoOverridden,
		ssoLinked: user.ssoSubject !== null
	};
}

export function workingMethods(state: LoginState): Method[] {
	const methods: Method[] = [];
	if (state.localAuthEnabled && state.hasPassword) methods.push('local');
	if (state.plexLoginEnabled && state.hasPlex) methods.push('plex');
	if (state.ssoEnabled && state.ssoLinked) methods.push('sso');
	return methods;
}

/** Would `next` leave no way in? (Only refuses changes that remove the last one.) */
export function locksOut(next: LoginState): boolean {
	return workingMethods(next).length === 0;
}
