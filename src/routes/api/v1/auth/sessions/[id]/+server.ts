import { json } from '@sveltejs/kit';
import * as v from 'valibot';
import { apiError, requireScope } from '$lib/server/auth/api-auth';
import { endSession } from '$lib/server/api/views';
import { sessionIdSchema } from '$lib/schemas/api';
import type { RequestHandler } from './$types';

export const DELETE: RequestHandler = async (event) => {
	const key = requireScope(event, 'full');
	if (key instanceof Response) return key;
	const id = v.safeParse(sessionIdSchema, event.params.id);
	if (!id.success) return apiError(400, id.issues[0].message);
	if (!(await endSession(key, id.output, event.locals.client.ip))) {
		return apiError(404, 'No such live session of yours.');
	}
	return json({ ended: id.output }, { headers: { 'cache-control': 'no-store' } });
};
