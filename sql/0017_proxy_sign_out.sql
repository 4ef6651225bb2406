-- Forward-auth mode: where "Sign out" sends the browser after ending the app's session, so that
-- the authenticating proxy's own session ends too (issue 25). Null: signing out stays on the app.
-- Either an absolute http(s) URL or a path on this app's address (an outpost served under it).
alter table "AppSettings"
	add column "forwardAuthLogoutUrl" text
		check ("forwardAuthLogoutUrl" is null or length("forwardAuthLogoutUrl") <= 2048);
