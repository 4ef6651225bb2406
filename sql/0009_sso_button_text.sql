-- The words on the login page's SSO button (issue 11): "Sign in with Authentik", say. At most 40
-- characters and never empty; the form refuses control characters before they get here.
alter table "AppSettings"
	add column "ssoButtonText" text not null default 'Sign in with SSO'
		constraint "AppSettings_ssoButtonText_check"
		check (char_length("ssoButtonText") between 1 and 40);
