// How the security page writes times, sign-in methods and history links.

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

/** The query of a history link: the filters, and the page unless it is the first. */
export function historySearch(
	filter: { event: string | null; method: string | null },
	page: number | null
) {
	const q = new URLSearchParams();
	if (filter.event) q.set('event', filter.event);
	if (filter.method) q.set('method', filter.method);
	if (page && page > 1) q.set('page', String(page));
	const text = q.toString();
	return text ? `?${text}` : '';
}
