// "Restore from Backup" on first run: only while no user exists. It lists the names of the
// backups on this instance's disk and nothing else (no sizes, no contents), since nobody is signed in here.
import { redirect } from '@sveltejs/kit';
import { addressRule, checkAndCount, WINDOW_MS } from '$lib/server/auth/throttle';
import {
	listBackups,
	refuse,
	RESTORE_FORM_MAX_BYTES,
	restoreFromForm,
	say
} from '$lib/server/backup';
import { readForm } from '$lib/server/form';
import type { Actions, PageServerLoad } from './$types';

/** First-run restore attempts per client address and 15-minute window. */
const RESTORE_ATTEMPTS = 10;

export const load: PageServerLoad = async ({ locals }) => {
	if (locals.hasUsers) redirect(303, locals.user ? '/settings/backups' : '/login');
	// Only the files on this instance's disk: the others cannot be restored from here.
	return { names: (await listBackups()).filter((f) => f.here).map((f) => f.name) };
};

export const actions = {
	default: async ({ request, locals, setHeaders }) => {
		if (locals.hasUsers) return refuse(403, 'restore', { message: say.setupDone });
		// Anyone can reach this page on a fresh server, and each attempt costs a decompression and
		// a parse: every attempt counts against the address, before its body is read.
		const verdict = await checkAndCount([
			addressRule('restore', locals.client.ip, {
				maxAttempts: RESTORE_ATTEMPTS,
				windowMs: WINDOW_MS
			})
		]);
		if (!verdict.allowed) {
			setHeaders({ 'retry-after': String(verdict.retryAfterSeconds) });
			const minutes = Math.ceil(verdict.retryAfterSeconds / 60);
			return refuse(429, 'restore', { message: say.tooManyRestores(minutes) });
		}
		const form = await readForm(request, RESTORE_FORM_MAX_BYTES, say.uploadTooLarge);
		const result = await restoreFromForm(form, 'setup', locals.client.ip);
		if (!result.ok) return refuse(result.status, 'restore', { message: result.message });
		redirect(303, '/login');
	}
} satisfies Actions;
