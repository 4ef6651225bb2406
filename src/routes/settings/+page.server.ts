import { redirect } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';

// /settings itself has nothing to show: its first section does.
export const load: PageServerLoad = () => redirect(307, '/settings/authentication');
