import { error, type RequestEvent } from '@sveltejs/kit';

/** Every load and action checks for itself; the guard handle is only the first line. */
export function requireUser(event: Pick<RequestEvent, 'locals'>) {
	const { user, session } = event.locals;
	if (!user || !session) error(401, 'You need to sign in first.');
	return { user, session };
}
