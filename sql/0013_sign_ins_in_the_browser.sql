-- Sign-ins in progress move into a sealed cookie in the browser that started them (issue 22):
-- starting one writes nothing, so strangers have no table to fill. What stays is the record of
-- flows that were *used*, for single use: a SHA-256 of the flow's kind and state (or PIN binding,
-- or challenge) until the flow would have expired (see src/lib/server/auth/used-flows.ts).
drop table "LoginTransaction";
drop table "WebAuthnChallenge";

create table "UsedSignInFlow" (
	hash text primary key,
	"expiresAt" timestamptz not null
);
create index "UsedSignInFlow_expiresAt_idx" on "UsedSignInFlow" ("expiresAt");
