// What step 2 of the SSO settings shows after a failed Verify & Link: the words the callback
// recorded for this user (oidc.ts / oidc-client-auth.ts made them: the step, the HTTP status, the
// provider's own `error` and `error_description`, sanitised and capped, and one hint per known
// cause). They come from the audit trail, not from the address: a query string is never
// reflected onto a page. Read only when the page is opened with `?sso_link_error=`.
import { sql } from '../db';

/** A failure older than this is not the one the admin just came back from. */
const RECENT_MINUTES = 15;
/** The recorded words are capped when written (the callback); this is a second cap. */
export const LINK_FAILURE_MAX = 800;

/**
 * The words of this user's last failed Verify & Link of the last minutes, or null. `secret`, the
 * client secret, is cut out should a provider have echoed it.
 */
export async function lastLinkFailure(userId: number, secret: string | null) {
	const [row] = await sql<{ error: string | null }[]>`
		select detail->>'error' as error from "AuditEvent"
		where event = 'sso.link_failed' and "userId" = ${userId}
			and "occurredAt" > now() - make_interval(mins => ${RECENT_MINUTES})
		order by "occurredAt" desc, id desc limit 1
	`;
	let words = sanitizeProviderText(row?.error ?? null, LINK_FAILURE_MAX);
	if (words && secret && secret.length >= 4) words = words.split(secret).join('[redacted]');
	return words;
}

/** The provider's words, safe to log and show: control and format characters out, capped. */
export function sanitizeProviderText(value: unknown, max = 200): string | null {
	if (typeof value !== 'string') return null;
	const clean = value
		.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
		.replace(/\s+/g, ' ')
		.trim();
	if (!clean) return null;
	return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
