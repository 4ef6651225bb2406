import { json } from '@sveltejs/kit';
import { databaseAnswers } from '$lib/server/health';
import type { RequestHandler } from './$types';

// For Docker's HEALTHCHECK and for load balancers: healthy means the database answers.
export const GET: RequestHandler = async () => {
	const ok = await databaseAnswers();
	return json(
		{ status: ok ? 'ok' : 'database unavailable' },
		{ status: ok ? 200 : 503, headers: { 'cache-control': 'no-store' } }
	);
};
