import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard';
import { newRecoveryCodesFile } from '$lib/server/auth/recovery-codes';
import { readForm } from '$lib/server/form';
import type { RequestHandler } from './$types';

// The codes just shown, as a text file to keep. They are not stored in clear, so the page posts
// them back; only well-formed codes (at most ten) are written into the file.
export const POST: RequestHandler = async (event) => {
	const { user } = requireUser(event);
	const form = await readForm(event.request, 4096);
	const text = newRecoveryCodesFile(form.getAll('code'), {
		origin: event.locals.client.origin,
		username: user.localUsername ?? user.plexUsername ?? user.username
	});
	if (!text) error(400, 'Those are not recovery codes.');
	return new Response(text, {
		headers: {
			'content-type': 'text/plain; charset=utf-8',
			'content-disposition': 'attachment; filename="librariarr-recovery-codes.txt"',
			'cache-control': 'no-store'
		}
	});
};
