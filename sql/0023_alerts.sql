-- Alerts (issue 31, part 1): a message to the admin's own channels when something about signing in
-- happens (alerts/). Nothing here is in a backup, and a restore leaves it as it is.
--   "AlertChannel"   where messages go: ntfy, Apprise API, Discord, or a signed JSON webhook. Its
--                    addresses, topic, token and signing secret are one sealed JSON value
--                    (AES-256-GCM, crypto.ts); "summary" is what the page may show (kind and host).
--                    At most 10 (alerts/channels.ts).
--   "AlertSettings"  one row: which kinds of event send a message (all of them to begin with).
--   "AlertOutbox"    one row per message and channel, written by the statement that records the
--                    event and sent in the background (alerts/sender.ts). A "pending" row with the
--                    same "collapseKey" (channel, kind, account) takes a repeat as count + 1. A
--                    sender claims rows with `for update skip locked` by setting "sending" and a
--                    deadline in "nextAttemptAt"; a claim whose deadline passed (the instance died)
--                    is taken again. At most 500 rows pending or sending (alerts/outbox.ts); sent
--                    and failed rows are pruned (housekeeping).
create table "AlertChannel" (
	id serial primary key,
	kind text not null check (kind in ('ntfy', 'apprise', 'discord', 'webhook')),
	name text not null check (length(name) between 1 and 60),
	settings text not null check (length(settings) <= 8000),
	summary text not null check (length(summary) <= 200),
	enabled boolean not null default true,
	"createdAt" timestamptz not null default now(),
	"lastOutcome" text check ("lastOutcome" in ('sent', 'failed')),
	"lastAnswer" text check (length("lastAnswer") <= 500),
	"lastAt" timestamptz
);

create table "AlertSettings" (
	id integer primary key check (id = 1),
	events text[] not null
		default '{new_browser,recovery_code,throttled,sign_in_change,restore,api_key}'
		check (cardinality(events) <= 10)
);
insert into "AlertSettings" (id) values (1);

create table "AlertOutbox" (
	id bigserial primary key,
	"channelId" integer not null references "AlertChannel"(id) on delete cascade,
	kind text not null check (length(kind) <= 40),
	event text not null check (length(event) <= 80),
	"userId" integer,
	ip text check (length(ip) <= 64),
	detail jsonb,
	"collapseKey" text not null check (length("collapseKey") <= 200),
	count integer not null default 1,
	status text not null default 'pending'
		check (status in ('pending', 'sending', 'sent', 'failed')),
	attempts integer not null default 0,
	"createdAt" timestamptz not null default now(),
	"lastOccurredAt" timestamptz not null default now(),
	"nextAttemptAt" timestamptz not null default now(),
	"lastError" text check (length("lastError") <= 500),
	"doneAt" timestamptz
);

create unique index "AlertOutbox_pending" on "AlertOutbox" ("collapseKey") where status = 'pending';
create index "AlertOutbox_due" on "AlertOutbox" ("nextAttemptAt")
	where status in ('pending', 'sending');
create index "AlertOutbox_done" on "AlertOutbox" ("doneAt") where status in ('sent', 'failed');

-- A new row wakes the senders of every instance (LISTEN librariarr_alert, alerts/sender.ts): the
-- notification goes out when the inserting transaction commits, and only when a row was written
-- (a repeat counted on a waiting row is an update: no wake; PostgreSQL folds the same notification
-- sent several times in one transaction into one).
create function "alertQueued"() returns trigger language plpgsql as $$
begin
	perform pg_notify('librariarr_alert', '');
	return null;
end
$$;
create trigger "AlertOutbox_queued" after insert on "AlertOutbox"
	for each row execute function "alertQueued"();
