// Is the database answering, as requests see it? Every request that needs the database first
// resolves its session through `withinBudget`, and /healthz asks the same way, through the same
// pool, so the probe cannot say 200 while requests fail.
//
// Model: a request waits for the database at most BUDGET_MS, then gets the 503 page. Once one
// has waited that long (or a connection failed), the database counts as down: from then on one
// request at a time is let through to find out whether it is back (its query is the probe), and
// every other request gets the 503 page at once instead of queueing behind connections that are
// stuck. The first query that succeeds ends that state. So while the database is frozen, no more
// than the requests of one budget's length plus one probe wait on it, and once it answers again
// the next request (or the stuck probe itself, finishing) brings the app back.
import { sql } from './db';
import { log } from './log';

/** How long a request waits for the database before it gets the 503 page. */
export const BUDGET_MS = 3000;

/** The database did not answer within the budget, or is known to be down. */
export class DatabaseUnavailable extends Error {}

let down = false;
let probing = false;

/** The one line per outage and per recovery that an admin greps for. */
function markDown(cause: string) {
	if (!down)
		log.error('Database not answering: requests get the 503 page until it is back', { cause });
	down = true;
}

function markUp() {
	if (down) log.info('Database answering again');
	down = false;
}

/**
 * Runs `work` (a query, or a few) within the budget. Throws DatabaseUnavailable when the
 * database does not answer in time or is known to be down; other errors pass through, and
 * connection errors also mark the database down.
 */
export async function withinBudget<T>(work: () => Promise<T>): Promise<T> {
	const probe = down;
	if (probe) {
		if (probing) throw new DatabaseUnavailable('the database is not answering');
		probing = true;
	}
	const attempt = Promise.resolve().then(work);
	attempt.then(markUp, (error) => {
		if (isUnavailable(error)) markDown(String(error));
	});
	if (probe) attempt.finally(() => (probing = false)).catch(() => {});
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			markDown(`no answer within ${BUDGET_MS} ms`);
			reject(new DatabaseUnavailable(`the database did not answer within ${BUDGET_MS} ms`));
		}, BUDGET_MS);
	});
	try {
		return await Promise.race([attempt, late]);
	} finally {
		clearTimeout(timer);
	}
}

/** True when the database answers `select 1` within the budget (the /healthz probe). */
export async function databaseAnswers(): Promise<boolean> {
	try {
		await withinBudget(() => sql`select 1`);
		return true;
	} catch {
		return false;
	}
}

// postgres.js's own codes for a connection that failed or ended, and Node's socket errors.
const CONNECTION_CODES = new Set([
	'CONNECTION_CLOSED',
	'CONNECTION_DESTROYED',
	'CONNECTION_ENDED',
	'CONNECT_TIMEOUT',
	'ECONNREFUSED',
	'ECONNRESET',
	'EPIPE',
	'ETIMEDOUT',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH'
]);

/**
 * An error that says the database is gone or too slow, not that a statement was wrong:
 * connection failures, SQLSTATE class 08 (connection exception) and 57 (operator intervention:
 * the server shutting down or restarting, a statement ended by statement_timeout).
 */
export function isUnavailable(error: unknown): boolean {
	if (error instanceof DatabaseUnavailable) return true;
	const code = (error as { code?: unknown })?.code;
	if (typeof code !== 'string') return false;
	return CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57');
}
