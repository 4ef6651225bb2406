import { error } from '@sveltejs/kit';
import { bearerAllowed, metricsOn, renderMetrics } from '$lib/server/metrics';
import type { RequestHandler } from './$types';

// Prometheus' scrape target. Off (404, as for any unknown page) unless METRICS_TOKEN is set; then
// only with `Authorization: Bearer <METRICS_TOKEN>`.
export const GET: RequestHandler = async ({ request }) => {
	if (!metricsOn()) error(404, 'Not Found');
	if (!bearerAllowed(request.headers.get('authorization'))) {
		return new Response('Send METRICS_TOKEN as a bearer token: Authorization: Bearer <token>\n', {
			status: 401,
			headers: {
				'www-authenticate': 'Bearer realm="librariarr metrics"',
				'content-type': 'text/plain; charset=utf-8',
				'cache-control': 'no-store'
			}
		});
	}
	const { body, contentType } = await renderMetrics();
	return new Response(body, {
		headers: { 'content-type': contentType, 'cache-control': 'no-store' }
	});
};
