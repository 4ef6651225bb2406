import { json } from '@sveltejs/kit';
import { requireScope } from '$lib/server/auth/api-auth';
import { sessionsView } from '$lib/server/api/views';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	const key = requireScope(event, 'read');
	if (key instanceof Response) return key;
	return json(await sessionsView(key), { headers: { 'cache-control': 'no-store' } });
};
