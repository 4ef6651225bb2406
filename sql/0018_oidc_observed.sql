-- What the provider was seen to send (issue 24), so that Test Discovery says what applies instead
-- of guessing from the lists in its discovery document. Kept for one issuer and client id (the
-- two "…Issuer"/"…ClientId" columns); read only while they are the saved ones, and cleared when
-- step 1 is saved with another issuer or client id.
--   "oidcSeenIdTokenAlg"         the algorithm of the first ID token that verified, or of the last
--                                one refused for its algorithm (HS256, none: not in the accepted list)
--   "oidcSeenUsernameClaim"      the username claim the last sign-in looked for
--   "oidcSeenUsernameClaimFrom"  where it came from: the ID token, userinfo, or nowhere (missing)
alter table "AppSettings"
	add column "oidcSeenIssuer" text,
	add column "oidcSeenClientId" text,
	add column "oidcSeenIdTokenAlg" text
		check ("oidcSeenIdTokenAlg" is null or length("oidcSeenIdTokenAlg") <= 20),
	add column "oidcSeenUsernameClaim" text
		check ("oidcSeenUsernameClaim" is null or length("oidcSeenUsernameClaim") <= 255),
	add column "oidcSeenUsernameClaimFrom" text
		check ("oidcSeenUsernameClaimFrom" in ('id_token', 'userinfo', 'missing'));
