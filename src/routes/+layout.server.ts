import type { LayoutServerLoad } from './$types';

// Only what the browser needs to draw the header: never hashes, tokens or subjects.
export const load: LayoutServerLoad = ({ locals }) => ({
	user: locals.user ? { username: locals.session?.displayName ?? locals.user.username } : null
});
