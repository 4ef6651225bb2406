// Settings → Authentication → Single Sign-On: the actions of the card's three steps, one module
// per step (connection, linking, enable) and one each for "Required claim" and "Require two-factor", joined here for the page.
import { claimActions } from './sso-claims';
import { connectionActions } from './sso-connection';
import { enableActions } from './sso-enable';
import { linkingActions } from './sso-linking';
import { mfaActions } from './sso-mfa';
import type { Actions } from './$types';

export const ssoActions = {
	...connectionActions,
	...claimActions,
	...mfaActions,
	...linkingActions,
	...enableActions
} satisfies Actions;
