-- "Not me" (issue 31, part 2): a link in a new-browser or recovery-code alert that ends the
-- session that sign-in made and pauses the way it signed in (auth/not-me.ts).
--   "NotMe"                 one row per alerted sign-in: the SHA-256 of the link's token, the
--                           session it is bound to (null once that session ended: the link can
--                           still pause the method), 24 hours to live, and when it was used
--                           (single use). Purged by housekeeping once expired.
--   "User"."pausedMethods"  sign-in methods paused by a "Not me" ('local', 'passkey',
--                           'recovery-code', 'plex', 'sso'); a sign-in another way empties it.
create table "NotMe" (
	id text primary key check (length(id) = 64),
	"sessionId" text unique references "Session"(id) on delete set null,
	"userId" integer not null references "User"(id) on delete cascade,
	method text not null check (length(method) <= 40),
	"createdAt" timestamptz not null default now(),
	"expiresAt" timestamptz not null,
	"usedAt" timestamptz
);
create index "NotMe_expires" on "NotMe" ("expiresAt");

alter table "User" add column "pausedMethods" text[] not null default '{}'
	check (cardinality("pausedMethods") <= 5);
