import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard';
import { historyCsv, historyEvents, parseHistoryQuery } from '$lib/server/history';
import type { RequestHandler } from './$types';

// The sign-in history as CSV, with the same filters as the page (`?event=&method=`), streamed
// (history.ts) so that a long history neither fills memory nor stops other requests.
export const GET: RequestHandler = async (event) => {
	requireUser(event);
	const query = parseHistoryQuery(event.url.searchParams, await historyEvents());
	if (!query.ok) error(400, query.message);
	const csv = historyCsv(query.filter);
	const day = new Date().toISOString().slice(0, 10);
	return new Response(csv, {
		headers: {
			'content-type': 'text/csv; charset=utf-8',
			'content-disposition': `attachment; filename="librariarr-sign-in-history-${day}.csv"`,
			'cache-control': 'no-store'
		}
	});
};
