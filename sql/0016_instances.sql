-- Several instances on one database (issue 26).
--
-- "InstanceKey": a fingerprint of the instance key (SECRET_KEY, or CONFIG_DIR/secret.key), an
-- HMAC made with the key itself, never the key. The first instance to start writes it; an
-- instance whose key gives another fingerprint refuses to start, since secrets it sealed would
-- not open on the others (and theirs not on it). One row.
create table "InstanceKey" (
	id integer primary key default 1 check (id = 1),
	fingerprint text not null,
	"createdAt" timestamptz not null default now()
);

-- "Backup": every backup any instance wrote, so that each instance lists them all, and says
-- which instance's disk holds a file that is not on its own. A deleted backup (by hand or by
-- retention) keeps its row for a while with "deletedAt" set, so that the instance whose disk
-- holds the file removes it there; housekeeping drops such rows after 7 days.
create table "Backup" (
	name text primary key,
	size bigint not null,
	encrypted boolean not null,
	"createdAt" timestamptz not null,
	instance text not null,
	"deletedAt" timestamptz
);
create index "Backup_createdAt_idx" on "Backup" ("createdAt" desc) where "deletedAt" is null;
