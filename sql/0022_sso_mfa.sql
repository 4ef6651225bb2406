-- One MFA, proven per sign-in (issue 29, part 3): "Require two-factor for SSO sign-ins".
--   "AppSettings"."ssoMfaRequired"       on: an OIDC sign-in is accepted at once only when the ID
--                                        token proves MFA; otherwise the authenticator code is
--                                        asked here (/login/code), or the sign-in is refused
--   "AppSettings"."ssoMfaAmr"            `amr` values that count as proof (any one of them)
--   "AppSettings"."ssoMfaAcr"            `acr` values that count as proof (empty: none do)
--   "AppSettings"."ssoMfaMaxAgeMinutes"  how old `auth_time` may be for the proof to count
--   "PendingSignIn"."method"             how the waiting sign-in began ('local' or 'oidc')
--   "PendingSignIn"."ssoSession"         an OIDC sign-in's session fields (subject, names, ID
--                                        token, sid, issuer), sealed (crypto.ts)
alter table "AppSettings"
	add column "ssoMfaRequired" boolean not null default false,
	add column "ssoMfaAmr" text[] not null default '{mfa,otp,hwk,swk,fpt,sms}'
		check (cardinality("ssoMfaAmr") <= 20),
	add column "ssoMfaAcr" text[] not null default '{}'
		check (cardinality("ssoMfaAcr") <= 20),
	add column "ssoMfaMaxAgeMinutes" integer not null default 720
		check ("ssoMfaMaxAgeMinutes" between 5 and 43200);

alter table "PendingSignIn"
	add column "method" text not null default 'local' check ("method" in ('local', 'oidc')),
	add column "ssoSession" text check (length("ssoSession") <= 40000);
