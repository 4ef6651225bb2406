// Which events send an alert, each kind on or off in Settings → Notifications, and the words a
// message says. The audit trail's event names (audit.ts) are mapped to six kinds; an event not
// listed here sends nothing.

export const ALERT_KINDS = [
	'new_browser',
	'recovery_code',
	'throttled',
	'sign_in_change',
	'restore',
	'api_key'
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const isAlertKind = (value: string): value is AlertKind =>
	(ALERT_KINDS as readonly string[]).includes(value);

/** The switch's label on the settings page, and a message's title. */
export const KIND_WORDS: Record<AlertKind, { label: string; title: string }> = {
	new_browser: {
		label: 'A sign-in from a browser not known to the account',
		title: 'Sign-in from a new browser'
	},
	recovery_code: { label: 'A sign-in with a recovery code', title: 'Sign-in with a recovery code' },
	throttled: {
		label: 'The throttle refusing sign-in attempts',
		title: 'Too many sign-in attempts: the throttle refused some'
	},
	sign_in_change: {
		label:
			'A change of how anyone can sign in (switches, SSO, Plex, passkeys, authenticator, API keys)',
		title: 'How anyone can sign in has changed'
	},
	restore: { label: 'A restore from a backup', title: 'The database was restored from a backup' },
	api_key: { label: 'An API key created', title: 'An API key was created' }
};

/** Audit events that are a change of how anyone can sign in. */
const SIGN_IN_CHANGES = [
	'settings.local_login',
	'settings.plex_login',
	'settings.sso_enabled',
	'settings.sso_connection',
	'settings.sso_reverted',
	'settings.sso_required_claim',
	'settings.passkey_added',
	'settings.passkey_deleted',
	'settings.passkey_login',
	'settings.credentials',
	'sso.linked',
	'sso.unlinked',
	'plex.linked',
	'plex.unlinked',
	'totp.enabled',
	'totp.disabled',
	'recovery_codes.created',
	'api_key.revoked'
];

const BY_EVENT: Record<string, AlertKind> = {
	'login.throttled': 'throttled',
	'settings.credentials_throttled': 'throttled',
	'backup.restored': 'restore',
	'api_key.created': 'api_key',
	...Object.fromEntries(SIGN_IN_CHANGES.map((e) => [e, 'sign_in_change' as const]))
};

/** The kind of alert an audited event sends, or null (sign-ins are decided in sign-in.ts). */
export function alertKindOf(event: string): AlertKind | null {
	return Object.hasOwn(BY_EVENT, event) ? BY_EVENT[event] : null;
}
