// Single sign-on, one concern per file; this is what the routes use.
// config.ts (the settings and their one field list), availability.ts (can SSO be offered),
// connection.ts (step 1: save, revert), switch.ts (step 3), link.ts (step 2: link, unlink),
// link-failure.ts (a failed Verify & Link's words), observed.ts (what sign-ins saw the provider
// send), algorithms.ts (the ID token algorithms accepted), login.ts (what the login page and the
// SSO endpoints offer), required-claim.ts (the "Required claim" rule, pure), claims-seen.ts (the
// user's last claims, for its lock-out check), claim-rule.ts (the rule in force: checks, saving), mfa-proof.ts (does the ID token prove
// two-factor, pure), mfa.ts ("Require two-factor for SSO sign-ins" in force: sign-in, saving). Issuer comparisons are the rule's (rule/issuer.ts), re-exported here.
export {
	CLIENT_AUTH_SETTINGS,
	getSsoConfig,
	rememberClientAuth,
	type ClientAuthSetting,
	type ConnectionInput,
	type SsoConfig,
	type SsoMode
} from './config';
export { isConfigured, oidcReady } from './availability';
export { revertConnection, saveConnection } from './connection';
export { setSsoEnabled, type SsoSwitchRefusal } from './switch';
export { linkSsoIdentity, unlinkSsoIdentity, type LinkRefusal } from './link';
export { LINK_FAILURE_MAX, lastLinkFailure } from './link-failure';
export {
	checkIdentityClaims,
	ruleInForce,
	saveRequiredClaim,
	type ClaimLockOut
} from './claim-rule';
export {
	decideSignInMfa,
	mfaInForce,
	saveMfaSetting,
	secondFactorsOf,
	factorLossLocksOut,
	type MfaLockOut,
	type SecondFactors
} from './mfa';
export {
	DEFAULT_AMR,
	DEFAULT_MAX_AGE_MINUTES,
	MFA_LIMITS,
	mfaValueProblem,
	type MfaSetting
} from './mfa-proof';
export {
	NO_RULE,
	pathProblem,
	RULE_LIMITS,
	valueProblem,
	type RequiredClaim
} from './required-claim';
export {
	autoRedirectAllowed,
	loginPageWays,
	rejectNotLinked,
	rememberAutoRedirect,
	rememberSsoSetup,
	ssoAvailability,
	ssoButtonShown
} from './login';
export { issuerCovers, isMultiTenantIssuer, sameIssuer } from '../rule/issuer';
export { FORWARD_AUTH_ISSUER, identityFits } from '../rule/linked';
export type { Reenable } from '../rule/ways-in';
