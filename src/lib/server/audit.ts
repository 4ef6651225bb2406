// The audit trail: an "AuditEvent" row and one log line for every sign-in, failure, sign-out,
// setup and settings change. `detail` must never hold a password, token or secret.
import { sql } from './db';
import { log } from './log';

export type AuditInput = {
	event: string;
	userId?: number | null;
	method?: string | null;
	ip?: string | null;
	detail?: Record<string, string | number | boolean | null>;
};

export async function audit({
	event,
	userId = null,
	method = null,
	ip = null,
	detail
}: AuditInput) {
	log.info(event, { user: userId, method, ip, ...detail });
	try {
		await sql`
			insert into "AuditEvent" (event, "userId", method, ip, detail)
			values (${event}, ${userId}, ${method}, ${ip}, ${detail ? sql.json(detail) : null})
		`;
	} catch (error) {
		// Losing an audit row must not turn a successful sign-in into an error page.
		log.error('Could not write audit event', { event, error: String(error) });
	}
}
