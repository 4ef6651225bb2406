-- Settings → Security.
-- A session's public id: what the sessions list puts in its "Sign out" buttons. The primary key
-- is the SHA-256 of the cookie's token and must never leave the server; this random id
-- authenticates nothing, and a sign-out by it also checks that the session is the user's own.
alter table "Session" add column "publicId" uuid not null default gen_random_uuid();
create unique index "Session_publicId_key" on "Session" ("publicId");

-- The browser behind each audited event, for the sign-in history (cut to 512 characters).
alter table "AuditEvent" add column "userAgent" text;
-- The sign-in history filters by event and pages newest first.
create index "AuditEvent_event_occurredAt_idx" on "AuditEvent" (event, "occurredAt");
