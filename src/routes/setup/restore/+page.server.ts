// "Restore from Backup" on first run: only while no user exists. It lists the names in the
// backup folder and nothing else (no sizes, no contents), since nobody is signed in here.
import { fail, redirect } from '@sveltejs/kit';
import { listBackups } from '$lib/server/backup';
import { restoreFromForm } from '$lib/server/backup-restore';
import type { Actions, PageServerLoad } from './$types';

const DONE = 'Setup has already been completed. Sign in, then restore from Settings → Backups.';

export const load: PageServerLoad = async ({ locals }) => {
	if (locals.hasUsers) redirect(303, locals.user ? '/settings/backups' : '/login');
	return { names: (await listBackups()).map((f) => f.name) };
};

export const actions: Actions = {
	default: async ({ request, locals }) => {
		if (locals.hasUsers) return fail(403, { message: DONE });
		const result = await restoreFromForm(await request.formData(), 'setup', locals.client.ip);
		if (!result.ok) return fail(result.status, { message: result.message });
		redirect(303, '/login');
	}
};
