-- What a session shows while signed in through SSO: the display name and email the identity
-- provider (username claim) or the proxy (name/email headers) supplied. They never choose the
-- account; (issuer, subject) does.
alter table "Session" add column "displayName" text;
alter table "Session" add column email text;

create index "LoginTransaction_state_idx" on "LoginTransaction" (state);
