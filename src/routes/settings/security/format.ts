// How the security page writes times and sign-in methods.

/** "2026-12-01 19:40 UTC": unambiguous, and the same on the server and in the browser. */
export function utcMinute(iso: string) {
	return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** Short names for table cells (the home page's METHOD_LABELS are sentence-length). */
export const METHOD_NAMES: Record<string, string> = {
	local: 'Password',
	plex: 'Plex',
	oidc: 'OIDC',
	'forward-auth': 'Forward auth',
	passkey: 'Passkey'
};
