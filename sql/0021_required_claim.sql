-- Sign-in rules on the provider's claims (issue 29, part 2): "Required claim".
--   "AppSettings"."ssoRequiredClaim"        the claim's path (`groups`, `realm_access.roles`); ''
--                                           is no rule
--   "AppSettings"."ssoRequiredClaimValues"  the accepted values: one of them must be in the claim
--   "User"."ssoClaimsSeen"                  the user's own claims from their last verified SSO
--                                           sign-in or Verify & Link, bounded and sealed
--                                           (AES-256-GCM, crypto.ts), with the issuer and subject
--                                           they belong to: turning the rule on is refused when
--                                           they do not satisfy it (sso/claims-seen.ts)
--   "User"."ssoClaimsSeenDigest"            a keyed digest of them, so that a sign-in that saw
--                                           the same claims writes nothing
alter table "AppSettings"
	add column "ssoRequiredClaim" text not null default ''
		check (length("ssoRequiredClaim") <= 200),
	add column "ssoRequiredClaimValues" text[] not null default '{}'
		check (cardinality("ssoRequiredClaimValues") <= 50);

alter table "User"
	add column "ssoClaimsSeen" text check (length("ssoClaimsSeen") <= 100000),
	add column "ssoClaimsSeenDigest" text check (length("ssoClaimsSeenDigest") <= 64);
