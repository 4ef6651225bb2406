// How the security page writes its history links.

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
