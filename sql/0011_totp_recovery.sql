-- TOTP as a second step for the password, and one-time recovery codes (issue 15).
--
-- TOTP is on while "totpSecret" is set (sealed with the app key, like the OIDC client secret).
-- "totpPendingSecret" holds the secret being enrolled until a correct code turns it on.
-- "totpLastStep" is the last 30-second step accepted: a code is accepted only for a later step,
-- so a code seen once (over a shoulder, in a proxy log) can never be used again.
alter table "User"
	add column "totpSecret" text,
	add column "totpPendingSecret" text,
	add column "totpEnabledAt" timestamptz,
	add column "totpLastStep" bigint;

-- Ten per user at most (regenerating deletes the old set). Only an HMAC-SHA-256 of each code is
-- stored; a used code keeps its row (with "usedAt") so that the count of unused ones is honest.
create table "RecoveryCode" (
	id bigserial primary key,
	"userId" integer not null references "User" (id) on delete cascade,
	"codeHash" text not null,
	"createdAt" timestamptz not null default now(),
	"usedAt" timestamptz,
	unique ("userId", "codeHash")
);

-- A password sign-in waiting for its second step: single use, five minutes, bound to the browser
-- by a cookie whose SHA-256 is the id. At most a few per user (see pending-sign-in.ts); expired
-- rows are purged by housekeeping.
create table "PendingSignIn" (
	id text primary key,
	"userId" integer not null references "User" (id) on delete cascade,
	"returnTo" text,
	ip text,
	"createdAt" timestamptz not null default now(),
	"expiresAt" timestamptz not null
);
create index "PendingSignIn_userId_idx" on "PendingSignIn" ("userId", "createdAt");
create index "PendingSignIn_expiresAt_idx" on "PendingSignIn" ("expiresAt");
