// Banner texts for `?plex_error=<code>` on the login, setup and settings pages.
export const PLEX_ERRORS: Record<string, string> = {
	plex_unavailable: 'plex.tv did not answer properly in time. Try again in a moment.',
	plex_denied: 'Plex sign-in was not completed: the PIN was not approved at plex.tv.',
	plex_expired: 'Plex sign-in expired or was started in another browser. Start again.',
	plex_not_linked: 'This Plex account is not linked to a Librariarr user.',
	plex_disabled: 'Plex sign-in is turned off on this server.',
	plex_already_linked: 'That Plex account is already linked to another user.',
	step_up:
		'Linking a Plex account needs proof that it is you: fill in “Confirm it is you” beside the button, or sign out and in again and link within 5 minutes.'
};
