-- Passkeys (WebAuthn) as a way in (issue 15).
--
-- A passkey is bound to the relying-party ID it was registered under: the host of the public
-- origin at that time. It is stored with each passkey, so that a change of host can be shown.
create table "Passkey" (
	id serial primary key,
	"userId" integer not null references "User" (id) on delete cascade,
	-- base64url, as the browser reports it
	"credentialId" text not null unique,
	"publicKey" bytea not null,
	counter bigint not null default 0,
	transports text[] not null default '{}',
	"rpId" text not null,
	name text not null,
	"deviceType" text,
	"backedUp" boolean not null default false,
	"createdAt" timestamptz not null default now(),
	"lastUsedAt" timestamptz
);
create index "Passkey_userId_idx" on "Passkey" ("userId");

-- Challenges handed to browsers: single use (deleted when used), five minutes, and bounded per
-- user (registration) and per client address (sign-in); expired rows are purged by housekeeping.
create table "WebAuthnChallenge" (
	challenge text primary key,
	purpose text not null check (purpose in ('register', 'authenticate')),
	"userId" integer references "User" (id) on delete cascade,
	-- registration: the session that gave the proof (a password or a fresh sign-in)
	"sessionId" text,
	ip inet,
	"rpId" text not null,
	origin text not null,
	"createdAt" timestamptz not null default now(),
	"expiresAt" timestamptz not null
);
create index "WebAuthnChallenge_expiresAt_idx" on "WebAuthnChallenge" ("expiresAt");
create index "WebAuthnChallenge_ip_idx" on "WebAuthnChallenge" (ip);
create index "WebAuthnChallenge_userId_idx" on "WebAuthnChallenge" ("userId");

alter table "AppSettings" add column "passkeyLoginEnabled" boolean not null default true;
