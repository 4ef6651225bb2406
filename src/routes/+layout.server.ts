import type { LayoutServerLoad } from './$types';

// Only what the browser needs to draw the header: never hashes, tokens or subjects. The origin
// mismatch warns before anything is typed that forms on this page will be refused.
export const load: LayoutServerLoad = ({ locals }) => ({
	user: locals.user ? { username: locals.session?.displayName ?? locals.user.username } : null,
	originMismatch: locals.client.originMismatch
});
