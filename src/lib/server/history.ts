// The sign-in history of Settings → Security: the audit trail ("AuditEvent") read back, newest
// first, a page at a time or whole as CSV, and the "last sign-in" line of the home page.
//
// Everything in these rows came from a browser, a proxy or an identity provider (a typed
// username, a User-Agent, a subject): the page escapes it as text, and the CSV neutralises cells
// a spreadsheet would run as a formula (csv-stringify's escape_formulas).
import { stringify } from 'csv-stringify/sync';
import { PLEX_ERRORS } from '../plex-errors';
import { SSO_ERRORS } from '../sso-errors';
import { sql } from './db';
import { describeUserAgent } from './user-agent';

export const HISTORY_PAGE_SIZE = 25;
/** The CSV holds at most this many rows, newest first (the trail itself expires with age). */
export const CSV_MAX_ROWS = 50_000;
/** The highest page number a link can ask for; beyond it the query is refused. */
const MAX_PAGE = 100_000;

/** Event names as the filter shows them; events not listed here show their own name. */
export const EVENT_LABELS: Record<string, string> = {
	'login.succeeded': 'Signed in',
	'login.failed': 'Sign-in failed',
	'login.throttled': 'Sign-in refused (too many attempts)',
	'settings.credentials_throttled': 'Password change refused (too many attempts)',
	'throttle.cleared': 'Throttle cleared',
	'totp.enabled': 'Authenticator app turned on',
	'totp.disabled': 'Authenticator app turned off',
	'recovery_codes.created': 'Recovery codes created',
	logout: 'Signed out',
	'session.revoked': 'Session signed out from Settings → Security',
	'setup.completed': 'First-run setup',
	'settings.credentials': 'Username or password changed',
	'settings.local_login': 'Local sign-in switched',
	'settings.plex_login': 'Plex sign-in switched',
	'settings.sso_button_text': 'SSO button text changed',
	'settings.sso_connection': 'SSO connection saved',
	'settings.sso_enabled': 'SSO sign-in switched',
	'settings.sso_reverted': 'SSO connection reverted',
	'settings.session_policy': 'Session policy changed',
	'sso.linked': 'SSO identity linked',
	'sso.unlinked': 'SSO identity unlinked',
	'sso.link_failed': 'SSO linking failed',
	'plex.linked': 'Plex account linked',
	'plex.unlinked': 'Plex account unlinked',
	'backup.created': 'Backup created',
	'backup.deleted': 'Backup deleted',
	'backup.restored': 'Backup restored',
	'backup.schedule_changed': 'Backup schedule changed',
	'settings.passkey_added': 'Passkey added',
	'settings.passkey_renamed': 'Passkey renamed',
	'settings.passkey_deleted': 'Passkey deleted',
	'settings.passkey_login': 'Passkey sign-in switched',
	'api_key.created': 'API key created',
	'api_key.revoked': 'API key revoked',
	'api_key.renamed': 'API key renamed',
	'api_key.new_address': 'API key used from a new address',
	'api_key.refused': 'API key refused (unknown key)',
	'alerts.channel_added': 'Alert channel added',
	'alerts.channel_removed': 'Alert channel removed',
	'alerts.events_changed': 'Alert events changed'
};

/** The sign-in methods the filter offers (the values "AuditEvent".method takes). */
export const HISTORY_METHODS: Record<string, string> = {
	local: 'Password',
	plex: 'Plex',
	oidc: 'OIDC',
	'forward-auth': 'Forward auth',
	passkey: 'Passkey',
	'recovery-code': 'Recovery code',
	'api-key': 'API key'
};

const REASONS: Record<string, string> = {
	...SSO_ERRORS,
	...PLEX_ERRORS,
	sso_disabled: 'SSO sign-in is turned off',
	wrong_totp: 'Wrong or already used authenticator code',
	'wrong_recovery-code': 'Wrong or already used recovery code'
};

export type HistoryFilter = { event: string | null; method: string | null; page: number };

export type HistoryEntry = {
	id: string;
	occurredAt: Date;
	event: string;
	method: string | null;
	ip: string | null;
	browser: string;
	system: string;
	userAgent: string | null;
	/** The username typed or the subject presented, when the event names one. */
	username: string | null;
	/** Why a sign-in failed or was refused, in words; null for other events. */
	reason: string | null;
	/** How many times a repeated event (a throttled attempt) happened, and the last time. */
	count: number;
	lastOccurredAt: Date | null;
};

export type ParsedQuery = { ok: true; filter: HistoryFilter } | { ok: false; message: string };

/**
 * The filter from `?event=&method=&page=`. An empty value means "any"; anything else must be
 * one of the offered choices, so a hand-made link gets a clear refusal instead of a guess.
 */
export function parseHistoryQuery(query: URLSearchParams, events: string[]): ParsedQuery {
	const event = query.get('event') || null;
	const method = query.get('method') || null;
	const pageText = query.get('page') || '1';
	if (event !== null && !events.includes(event)) {
		return { ok: false, message: 'There is no such event to filter by.' };
	}
	if (method !== null && !(method in HISTORY_METHODS)) {
		return { ok: false, message: 'There is no such sign-in method to filter by.' };
	}
	if (!/^[1-9]\d{0,5}$/.test(pageText) || Number(pageText) > MAX_PAGE) {
		return { ok: false, message: 'The page number must be a whole number from 1.' };
	}
	return { ok: true, filter: { event, method, page: Number(pageText) } };
}

/** The events the filter offers: the known ones and any other name the trail holds. */
export async function historyEvents(): Promise<string[]> {
	const rows = await sql<{ event: string }[]>`select distinct event from "AuditEvent"`;
	const names = new Set([...Object.keys(EVENT_LABELS), ...rows.map((r) => r.event)]);
	return [...names].sort();
}

export function eventLabel(event: string) {
	return EVENT_LABELS[event] ?? event;
}

function reasonOf(event: string, method: string | null, detail: Record<string, unknown> | null) {
	const code = typeof detail?.reason === 'string' ? detail.reason : null;
	// "Required claim": the words name the claim and what it held (sso/claim-rule.ts wrote them).
	if ((code === 'claim_required' || code === 'mfa_required') && typeof detail?.error === 'string')
		return `${REASONS[code]}: ${detail.error.slice(0, 400)}`;
	if (code) return REASONS[code] ?? code.slice(0, 200);
	if (event === 'login.throttled' || event === 'settings.credentials_throttled') {
		return 'Too many failed attempts: refused without checking';
	}
	if (event === 'login.failed' && method === 'local') return 'Wrong username or password';
	return null;
}

function usernameOf(detail: Record<string, unknown> | null) {
	for (const key of ['username', 'subject']) {
		if (typeof detail?.[key] === 'string') return (detail[key] as string).slice(0, 200);
	}
	return null;
}

type Row = {
	id: string;
	occurredAt: Date;
	event: string;
	method: string | null;
	ip: string | null;
	userAgent: string | null;
	detail: Record<string, unknown> | null;
	count: number;
	lastOccurredAt: Date | null;
};

function toEntry(row: Row): HistoryEntry {
	return {
		id: row.id,
		occurredAt: row.occurredAt,
		event: row.event,
		method: row.method,
		ip: row.ip,
		userAgent: row.userAgent,
		...describeUserAgent(row.userAgent),
		username: usernameOf(row.detail),
		reason: reasonOf(row.event, row.method, row.detail),
		count: row.count,
		lastOccurredAt: row.lastOccurredAt
	};
}

function where(filter: Pick<HistoryFilter, 'event' | 'method'>) {
	return sql`
		where (${filter.event}::text is null or event = ${filter.event})
			and (${filter.method}::text is null or method = ${filter.method})
	`;
}

export async function historyPage(filter: HistoryFilter) {
	const offset = (filter.page - 1) * HISTORY_PAGE_SIZE;
	const [rows, [{ total }]] = await Promise.all([
		sql<Row[]>`
			select id::text, "occurredAt", event, method, ip, "userAgent", detail, count, "lastOccurredAt"
			from "AuditEvent" ${where(filter)}
			order by "occurredAt" desc, id desc
			limit ${HISTORY_PAGE_SIZE} offset ${offset}
		`,
		sql<{ total: number }[]>`select count(*)::int as total from "AuditEvent" ${where(filter)}`
	]);
	return {
		entries: rows.map(toEntry),
		total,
		page: filter.page,
		pages: Math.max(1, Math.ceil(total / HISTORY_PAGE_SIZE))
	};
}

const CSV_COLUMNS = [
	'time (UTC)',
	'event',
	'times',
	'last time (UTC)',
	'method',
	'address',
	'browser',
	'system',
	'username or subject',
	'reason',
	'user agent'
];

/** Rows fetched (and turned into CSV) at a time: small enough that no batch holds the loop. */
const CSV_BATCH_ROWS = 500;

function csvLines(rows: Row[], header: boolean) {
	const records = rows
		.map(toEntry)
		.map((e) => [
			e.occurredAt.toISOString(),
			e.event,
			e.count,
			e.lastOccurredAt?.toISOString() ?? '',
			e.method ?? '',
			e.ip ?? '',
			e.browser,
			e.system,
			e.username ?? '',
			e.reason ?? '',
			e.userAgent ?? ''
		]);
	return stringify(records, {
		header,
		columns: CSV_COLUMNS,
		escape_formulas: true,
		record_delimiter: 'windows'
	});
}

/**
 * Every matching event (up to CSV_MAX_ROWS, newest first) as a CSV stream. The rows come through
 * a cursor, CSV_BATCH_ROWS at a time, and the next batch is read only when the client has taken
 * the last one (the stream is pulled): memory holds one batch, and a large export never blocks
 * the event loop for longer than one batch takes. A client that goes away closes the cursor.
 */
export function historyCsv(filter: Pick<HistoryFilter, 'event' | 'method'>) {
	const query = sql<Row[]>`
		select id::text, "occurredAt", event, method, ip, "userAgent", detail, count, "lastOccurredAt"
		from "AuditEvent" ${where(filter)}
		order by "occurredAt" desc, id desc
		limit ${CSV_MAX_ROWS}
	`;
	const batches = query.cursor(CSV_BATCH_ROWS)[Symbol.asyncIterator]();
	const encoder = new TextEncoder();
	let header = true;
	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				const next = await batches.next();
				if (next.done) {
					if (header) controller.enqueue(encoder.encode(csvLines([], true)));
					controller.close();
					return;
				}
				controller.enqueue(encoder.encode(csvLines(next.value, header)));
				header = false;
			},
			async cancel() {
				await batches.return?.();
			}
		},
		{ highWaterMark: 1 }
	);
}

export type LastSignIn = {
	/** The sign-in before this session's, or null when this is the first on record. */
	previous: { at: Date; ip: string | null; method: string | null } | null;
	/** Failed sign-ins since then that named this account (anonymous failures are only counted). */
	failedSince: number;
};

/** The home page's "Last sign-in: … from … via …" and the failures since. */
export async function lastSignIn(userId: number, sessionStartedAt: Date): Promise<LastSignIn> {
	const [previous] = await sql<{ at: Date; ip: string | null; method: string | null }[]>`
		select "occurredAt" as at, ip, method from "AuditEvent"
		where event = 'login.succeeded' and "userId" = ${userId} and "occurredAt" < ${sessionStartedAt}
		order by "occurredAt" desc, id desc
		limit 1
	`;
	const since = previous?.at ?? new Date(0);
	const [{ failed }] = await sql<{ failed: number }[]>`
		select count(*)::int as failed from "AuditEvent"
		where event = 'login.failed' and "occurredAt" > ${since} and "userId" = ${userId}
	`;
	return { previous: previous ?? null, failedSince: failed };
}
