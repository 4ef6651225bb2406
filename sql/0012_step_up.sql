-- Step-up (issue 21): proof, on top of the session, for every change that adds a way in.
--
-- "provedAt" is when this session last gave a proof that step-up.ts accepted (the current
-- password, an authenticator code or a passkey made then). For five minutes after it the session
-- counts as proven, like a sign-in that recent: the proof just given also covers the change it
-- offers next (new recovery codes after a password change). One column, overwritten: no growth.
--
-- "passkeyId" is the passkey a passkey sign-in was made with: deleting that passkey deletes the
-- sessions it opened (the cascade is the rule, in the same statement as the delete).
alter table "Session"
	add column "provedAt" timestamptz,
	add column "passkeyId" integer references "Passkey" (id) on delete cascade;
create index "Session_passkeyId_idx" on "Session" ("passkeyId") where "passkeyId" is not null;
