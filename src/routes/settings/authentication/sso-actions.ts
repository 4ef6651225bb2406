// Settings → Authentication → Single Sign-On: the actions of the card's three steps, one module
// per step (connection, linking, enable) and one for "Required claim", joined here for the page.
import { claimActions } from './sso-claims';
import { connectionActions } from './sso-connection';
import { enableActions } from './sso-enable';
import { linkingActions } from './sso-linking';
import type { Actions } from './$types';

export const ssoActions = {
	...connectionActions,
	...claimActions,
	...linkingActions,
	...enableActions
} satisfies Actions;
