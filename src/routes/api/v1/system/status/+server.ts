import { json } from '@sveltejs/kit';
import { requireScope } from '$lib/server/auth/api-auth';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { systemStatus } from '$lib/server/api/views';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	const key = requireScope(event, 'read');
	if (key instanceof Response) return key;
	return json(await systemStatus(rpIdFor(event.locals.client.origin)), {
		headers: { 'cache-control': 'no-store' }
	});
};
