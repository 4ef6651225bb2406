-- The whole data model of Librariarr's authentication core.
-- Identifiers are quoted PascalCase/camelCase on purpose: the recovery SQL in the README
-- (and in the user guide) must run verbatim against this schema.

create table "User" (
	id serial primary key,
	username text not null,
	email text,
	"localUsername" text unique check ("localUsername" = lower("localUsername")),
	"passwordHash" text,
	"plexId" text unique,
	"plexUsername" text,
	"plexToken" text,
	"ssoSubject" text,
	"ssoIssuer" text,
	"ssoProvider" text check ("ssoProvider" in ('oidc', 'forward-auth')),
	"ssoEnabled" boolean not null default false,
	"sessionVersion" integer not null default 1,
	"createdAt" timestamptz not null default now(),
	"updatedAt" timestamptz not null default now(),
	unique ("ssoIssuer", "ssoSubject")
);

-- Exactly one row (id = 1): the instance-wide authentication settings.
create table "AppSettings" (
	id integer primary key default 1 check (id = 1),
	"localAuthEnabled" boolean not null default true,
	"plexLoginEnabled" boolean not null default false,
	"plexClientIdentifier" text,
	"ssoEnabled" boolean not null default false,
	"ssoMode" text not null default 'OIDC' check ("ssoMode" in ('OIDC', 'FORWARD_AUTH')),
	"oidcIssuer" text,
	"oidcClientId" text,
	"oidcClientSecret" text,
	"oidcScopes" text not null default 'openid profile email',
	"oidcUsernameClaim" text not null default 'preferred_username',
	"forwardAuthUserHeader" text not null default 'Remote-User',
	"forwardAuthEmailHeader" text not null default 'Remote-Email',
	"forwardAuthNameHeader" text not null default 'Remote-Name',
	"previousSsoConfig" jsonb,
	"ssoConfigVersion" integer not null default 1,
	"backupSchedule" text not null default 'off',
	"backupCron" text,
	"backupRetention" integer not null default 7 check ("backupRetention" >= 1),
	"backupPassphrase" text,
	"lastBackupAt" timestamptz,
	"updatedAt" timestamptz not null default now()
);
insert into "AppSettings" (id) values (1);

-- A session row stores only the SHA-256 of the token's secret; the token itself lives in the
-- browser's cookie. "sessionVersion" must equal the user's for the session to be valid.
create table "Session" (
	id text primary key,
	"userId" integer not null references "User" (id) on delete cascade,
	"sessionVersion" integer not null,
	method text not null,
	"ssoSubject" text,
	"expiresAt" timestamptz not null,
	"createdAt" timestamptz not null default now(),
	"lastSeenAt" timestamptz not null default now(),
	ip text,
	"userAgent" text
);
create index "Session_userId_idx" on "Session" ("userId");

-- An OIDC or Plex sign-in in flight: single use, short-lived, bound to one browser by the hash
-- of a cookie value, so any app instance can finish a login another one started.
create table "LoginTransaction" (
	id text primary key,
	kind text not null check (kind in ('oidc', 'plex')),
	purpose text not null default 'login',
	"browserBinding" text not null,
	state text,
	nonce text,
	"codeVerifier" text,
	"plexPinId" text,
	"plexPinCode" text,
	"returnTo" text,
	"userId" integer references "User" (id) on delete cascade,
	"createdAt" timestamptz not null default now(),
	"expiresAt" timestamptz not null,
	"usedAt" timestamptz
);
create index "LoginTransaction_expiresAt_idx" on "LoginTransaction" ("expiresAt");

-- Failed sign-in attempts, one row each, counted per key ('ip:…' or 'user:…') over a window.
create table "LoginFailure" (
	id bigserial primary key,
	key text not null,
	"failedAt" timestamptz not null default now()
);
create index "LoginFailure_key_failedAt_idx" on "LoginFailure" (key, "failedAt");

create table "AuditEvent" (
	id bigserial primary key,
	"occurredAt" timestamptz not null default now(),
	"userId" integer references "User" (id) on delete set null,
	event text not null,
	method text,
	ip text,
	detail jsonb
);
create index "AuditEvent_occurredAt_idx" on "AuditEvent" ("occurredAt");
