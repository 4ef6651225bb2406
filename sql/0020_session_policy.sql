-- The session policy (issue 30, part 2): the admin's absolute lifetime and idle timeout, in whole
-- hours, applied to every session at its next request (session.ts reads them in the query that
-- resolves the session). The idle timeout is off while null. A session made with "Keep me signed
-- in" unchecked has "keepSignedIn" false: a browser-session cookie and at most 12 hours. A
-- password sign-in waiting for its authenticator code carries the choice to the code step.
alter table "AppSettings"
	add column "sessionLifetimeHours" integer not null default 720
		check ("sessionLifetimeHours" between 1 and 8760),
	add column "sessionIdleHours" integer
		check ("sessionIdleHours" between 1 and 720);

alter table "Session" add column "keepSignedIn" boolean not null default true;

alter table "PendingSignIn" add column "keepSignedIn" boolean not null default true;
