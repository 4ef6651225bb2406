-- Bounded growth. A sign-in in flight remembers the client address that started it, so that one
-- address (an IPv6 /64) can hold only a few at a time; the audit trail expires after
-- "auditRetentionDays"; expired sessions are found by index when the housekeeping job purges them.
alter table "LoginTransaction" add column ip inet;
create index "LoginTransaction_ip_createdAt_idx" on "LoginTransaction" (ip, "createdAt");

alter table "AppSettings" add column "auditRetentionDays" integer not null default 90
	check ("auditRetentionDays" between 1 and 3650);

create index "Session_expiresAt_idx" on "Session" ("expiresAt");
