-- What client-authentication negotiation learnt (issue 24): the variant the provider's token
-- endpoint accepted, and the issuer and client id it was learnt for. "oidcClientAuthMethod" keeps
-- 'auto' (or the admin's choice); this is only the order in which the variants are tried. It is
-- forgotten when the issuer, client id, secret or method is saved or reverted.
--   basic      HTTP Basic with id and secret form-encoded (RFC 6749 §2.3.1, the standard)
--   basic-raw  HTTP Basic with id and secret as they are (providers that compare without decoding)
--   post       client_secret_post
alter table "AppSettings"
	add column "oidcClientAuthLearnt" text
		check ("oidcClientAuthLearnt" in ('basic', 'basic-raw', 'post')),
	add column "oidcClientAuthLearntIssuer" text,
	add column "oidcClientAuthLearntClientId" text;
