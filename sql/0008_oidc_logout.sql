-- Sign-out that reaches the identity provider (issue 14).
--
-- OIDC sessions keep the ID token they were created from (sealed with the app key, for the
-- id_token_hint of RP-initiated logout), its `sid` claim and the issuer, so that a back-channel
-- logout token can name them.
alter table "Session"
	add column "oidcIdToken" text,
	add column "oidcSid" text,
	add column "oidcIssuer" text;
create index "Session_oidcSid_idx" on "Session" ("oidcSid") where "oidcSid" is not null;

alter table "AppSettings"
	add column "oidcRpLogout" boolean not null default false,
	add column "ssoAutoRedirect" boolean not null default false;

-- The `jti` of every logout token accepted, kept until the token could no longer be accepted
-- anyway (see backchannel.ts), so that a replay is refused. Rows past "expiresAt" are purged.
create table "LogoutTokenSeen" (
	issuer text not null,
	jti text not null,
	"expiresAt" timestamptz not null,
	primary key (issuer, jti)
);
create index "LogoutTokenSeen_expiresAt_idx" on "LogoutTokenSeen" ("expiresAt");
