// Settings → Authentication → Single Sign-On: the actions of the card's three steps, one module
// per step (connection, linking, enable), joined here for the page.
import { connectionActions } from './sso-connection';
import { enableActions } from './sso-enable';
import { linkingActions } from './sso-linking';
import type { Actions } from './$types';

export const ssoActions = {
	...connectionActions,
	...linkingActions,
	...enableActions
} satisfies Actions;
