import { json } from '@sveltejs/kit';
import { databaseAnswers } from '$lib/server/health';
import { bearerAllowed, metricsOn } from '$lib/server/metrics';
import { providerHealth } from '$lib/server/provider-health';
import type { RequestHandler } from './$types';

const NO_STORE = { 'cache-control': 'no-store' };

// For Docker's HEALTHCHECK and for load balancers: healthy means the database answers. With
// ?detail=1 and METRICS_TOKEN as a bearer token, the answer also says how single sign-on's
// provider is doing (provider-health.ts); the status code still means the database only.
export const GET: RequestHandler = async ({ url, request }) => {
	const ok = await databaseAnswers();
	const status = ok ? 'ok' : 'database unavailable';
	if (url.searchParams.get('detail') !== '1') {
		return json({ status }, { status: ok ? 200 : 503, headers: NO_STORE });
	}
	if (!metricsOn() || !bearerAllowed(request.headers.get('authorization'))) {
		return json(
			{
				status: 'unauthorized',
				message: metricsOn()
					? 'The detail needs METRICS_TOKEN as a bearer token: Authorization: Bearer <token>'
					: 'The detail is off: set METRICS_TOKEN, then send it as a bearer token'
			},
			{ status: 401, headers: { ...NO_STORE, 'www-authenticate': 'Bearer' } }
		);
	}
	let provider = null;
	let providerError: string | null = null;
	if (ok) {
		try {
			provider = await providerHealth();
		} catch {
			providerError = 'the settings could not be read from the database in time';
		}
	}
	return json(
		{ status, provider, ...(providerError ? { providerError } : {}) },
		{ status: ok ? 200 : 503, headers: NO_STORE }
	);
};
