// How the security page writes sign-in methods and history links.

/** Short names for table cells (the home page's METHOD_LABELS are sentence-length). */
export const METHOD_NAMES: Record<string, string> = {
	local: 'Password',
	plex: 'Plex',
	oidc: 'OIDC',
	'forward-auth': 'Forward auth',
	passkey: 'Passkey',
	'recovery-code': 'Recovery code'
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
