-- API keys (issue 28): for scripts and dashboards, on /api/v1 only. The key itself is never
-- stored: "hash" is its HMAC-SHA256 under a key derived from the instance secret (api-keys.ts),
-- and "prefix" is its short visible start, for lists and logs. At most 25 per user (api-keys.ts
-- counts under the user's row lock). "lastUsedAt" is written at most once an hour per key, and
-- when the key is used from an address prefix other than "lastAddress" (audited).
create table "ApiKey" (
	id serial primary key,
	"userId" integer not null references "User"(id) on delete cascade,
	name text not null check (length(name) between 1 and 100),
	prefix text not null check (length(prefix) between 1 and 32),
	hash bytea not null unique check (length(hash) = 32),
	scope text not null check (scope in ('read', 'full')),
	"createdAt" timestamptz not null default now(),
	"expiresAt" timestamptz,
	"revokedAt" timestamptz,
	"lastUsedAt" timestamptz,
	"lastAddress" text check (length("lastAddress") <= 64)
);

create index "ApiKey_userId" on "ApiKey" ("userId");
