// "Restore from Backup" on first run: only while no user exists. It lists the names in the
// backup folder and nothing else (no sizes, no contents), since nobody is signed in here.
import { fail, redirect } from '@sveltejs/kit';
import { listBackups } from '$lib/server/backup';
import {
	restoreFromForm,
	RESTORE_FORM_MAX_BYTES,
	UPLOAD_TOO_LARGE
} from '$lib/server/backup-restore';
import { checkAndCount, WINDOW_MS } from '$lib/server/auth/throttle';
import { readForm } from '$lib/server/form';
import type { Actions, PageServerLoad } from './$types';

/** First-run restore attempts per client address and 15-minute window. */
const RESTORE_ATTEMPTS = 10;

const DONE = 'Setup has already been completed. Sign in, then restore from Settings → Backups.';

export const load: PageServerLoad = async ({ locals }) => {
	if (locals.hasUsers) redirect(303, locals.user ? '/settings/backups' : '/login');
	return { names: (await listBackups()).map((f) => f.name) };
};

export const actions: Actions = {
	default: async ({ request, locals, setHeaders }) => {
		if (locals.hasUsers) return fail(403, { message: DONE });
		// Anyone can reach this page on a fresh server, and each attempt costs a decompression and
		// a parse: every attempt counts against the address, before its body is read.
		const verdict = await checkAndCount([
			{
				key: `restore:address:${locals.client.ip}`,
				kind: 'restore',
				scope: 'address',
				maxAttempts: RESTORE_ATTEMPTS,
				windowMs: WINDOW_MS
			}
		]);
		if (!verdict.allowed) {
			setHeaders({ 'retry-after': String(verdict.retryAfterSeconds) });
			const minutes = Math.ceil(verdict.retryAfterSeconds / 60);
			return fail(429, {
				message: `Too many restore attempts from your address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`
			});
		}
		const form = await readForm(request, RESTORE_FORM_MAX_BYTES, UPLOAD_TOO_LARGE);
		const result = await restoreFromForm(form, 'setup', locals.client.ip);
		if (!result.ok) return fail(result.status, { message: result.message });
		redirect(303, '/login');
	}
};
