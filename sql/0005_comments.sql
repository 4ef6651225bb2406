-- "User"."ssoEnabled" is written (true on linking, false on unlinking) but the app never reads
-- it: what decides SSO sign-in is "AppSettings"."ssoEnabled" and the link itself. The column
-- stays because the recovery SQL in the README (and in older copies of it that admins keep)
-- sets it.
comment on column "User"."ssoEnabled" is
	'Not read by the app; kept for the recovery SQL in the README, which sets it to false.';
