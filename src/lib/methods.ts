// How each sign-in method is named on screen.
export const METHOD_LABELS: Record<string, string> = {
	local: 'local username and password',
	plex: 'Plex account',
	oidc: 'single sign-on (OIDC)',
	'forward-auth': 'single sign-on (forward auth)',
	'recovery-code': 'one-time recovery code',
	passkey: 'passkey'
};
