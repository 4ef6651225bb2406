-- The throttle, redesigned: one row per key with a counter over a fixed window, so that
-- check-and-count is a single upsert whose returned count decides (no race between counting
-- and checking). Keys are generic ('password:address:…', 'current-password:account:…',
-- 'restore-ip:…'); "kind" names the secret check they guard, for the admin's list.
-- The old one-row-per-failure table goes: its counters were minutes old at most.
drop table "LoginFailure";

create table "Throttle" (
	key text primary key,
	kind text not null,
	attempts integer not null check (attempts >= 0),
	"maxAttempts" integer not null check ("maxAttempts" >= 1),
	"windowEndsAt" timestamptz not null
);
create index "Throttle_windowEndsAt_idx" on "Throttle" ("windowEndsAt");

-- Repeated events (throttled attempts) are one audit row per key and window with a count, not a
-- row per attempt. "collapseKey" names the key and window; NULL for ordinary one-off events.
alter table "AuditEvent" add column "count" integer not null default 1;
alter table "AuditEvent" add column "lastOccurredAt" timestamptz;
alter table "AuditEvent" add column "collapseKey" text;
create unique index "AuditEvent_collapseKey_idx" on "AuditEvent" ("collapseKey");
