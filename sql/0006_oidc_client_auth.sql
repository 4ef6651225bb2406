-- How the token request authenticates the client: 'auto' picks from the provider's
-- token_endpoint_auth_methods_supported (Basic when listed, else client_secret_post; nothing
-- without a secret); the other values force one method.
alter table "AppSettings" add column "oidcClientAuthMethod" text not null default 'auto'
	check ("oidcClientAuthMethod" in ('auto', 'client_secret_basic', 'client_secret_post', 'none'));
