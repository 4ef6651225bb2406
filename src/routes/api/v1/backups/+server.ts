import { json } from '@sveltejs/kit';
import { apiError, requireScope } from '$lib/server/auth/api-auth';
import { backupNow, backupsView } from '$lib/server/api/views';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	const key = requireScope(event, 'read');
	if (key instanceof Response) return key;
	return json(await backupsView(), { headers: { 'cache-control': 'no-store' } });
};

/** A backup now, for a script to run before an upgrade: answers with its name. */
export const POST: RequestHandler = async (event) => {
	const key = requireScope(event, 'full');
	if (key instanceof Response) return key;
	const made = await backupNow(key, event.locals.client.ip);
	if (!made.ok) return apiError(made.status, made.message);
	return json(made.body, { status: 201, headers: { 'cache-control': 'no-store' } });
};
