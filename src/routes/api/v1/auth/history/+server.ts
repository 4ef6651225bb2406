import { json } from '@sveltejs/kit';
import * as v from 'valibot';
import { apiError, requireScope } from '$lib/server/auth/api-auth';
import { historyView } from '$lib/server/api/views';
import { historyQuerySchema } from '$lib/schemas/api';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	const key = requireScope(event, 'read');
	if (key instanceof Response) return key;
	const page = event.url.searchParams.get('page');
	const query = v.safeParse(historyQuerySchema, page === null ? {} : { page });
	if (!query.success) return apiError(400, query.issues[0].message);
	return json(await historyView(query.output.page), { headers: { 'cache-control': 'no-store' } });
};
