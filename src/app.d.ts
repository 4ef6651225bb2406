import type { ApiPrincipal } from '$lib/server/auth/api-keys';
import type { ClientInfo } from '$lib/server/client';
import type { Session, SessionUser } from '$lib/server/auth/session';

declare global {
	namespace App {
		interface Locals {
			requestId: string;
			client: ClientInfo;
			/** Whether any user exists; false means first run. */
			hasUsers: boolean;
			user: SessionUser | null;
			session: Session | null;
			/** The API key of an /api/v1 request (hooks.server.ts); null everywhere else. */
			apiKey: ApiPrincipal | null;
			/** Whether cookies set on this request need the Secure flag. */
			secureCookies: boolean;
			/** Set by handleError when the request failed because the database went away. */
			databaseUnavailable?: boolean;
		}
		interface Error {
			message: string;
			requestId?: string;
		}
	}
}

export {};
