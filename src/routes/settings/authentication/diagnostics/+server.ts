// "Download diagnostics": the support bundle (support-bundle.ts) as a file download, for the
// signed-in only. No store: the file describes this moment and must not sit in a shared cache.
import { requireUser } from '$lib/server/auth/guard';
import { supportBundle } from '$lib/server/support-bundle';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	requireUser(event);
	const body = await supportBundle({
		client: event.locals.client,
		headers: event.request.headers,
		host: event.url.host,
		secureCookies: event.locals.secureCookies
	});
	const day = new Date().toISOString().slice(0, 10);
	return new Response(body, {
		headers: {
			'content-type': 'application/json; charset=utf-8',
			'content-disposition': `attachment; filename="librariarr-diagnostics-${day}.json"`,
			'cache-control': 'no-store'
		}
	});
};
