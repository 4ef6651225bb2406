// What /metrics tells a Prometheus scraper (on only when METRICS_TOKEN is set): sign-ins by method
// and outcome, throttle refusals by kind, alert deliveries by channel and outcome, the sessions alive now, and the process's own figures
// (memory, CPU, event-loop delay) from prom-client's defaults. No label ever holds a username,
// an address or anything else a request chose: every label value comes from a fixed list here,
// so the number of series is bounded whatever the traffic.
//
// Counters live in this process: with several instances, each is scraped on its own and the
// scraper sums them. The session count is read from the database at each scrape (one query).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { config } from './config';
import { sql } from './db';
import { withinBudget } from './health';

const METHODS = new Set([
	'local',
	'plex',
	'oidc',
	'forward-auth',
	'passkey',
	'recovery-code',
	'totp',
	'api-key'
]);
const OUTCOMES = { 'login.succeeded': 'succeeded', 'login.failed': 'failed' } as const;
/** The audit trail's refusal events, and the kind each counts as. */
const REFUSALS: Record<string, string> = {
	'login.throttled': 'sign_in',
	'settings.credentials_throttled': 'current_password'
};

export const registry = new Registry();
let defaultsOn = false;

const signIns = new Counter({
	name: 'librariarr_sign_ins_total',
	help: 'Sign-in attempts that reached a verdict, by method and outcome (succeeded, failed, throttled).',
	labelNames: ['method', 'outcome'] as const,
	registers: [registry]
});

const throttleRefusals = new Counter({
	name: 'librariarr_throttle_refusals_total',
	help: 'Attempts the throttle refused before checking them, by what was being checked.',
	labelNames: ['kind'] as const,
	registers: [registry]
});

const alertDeliveries = new Counter({
	name: 'librariarr_alert_deliveries_total',
	help: 'Tries at delivering a queued alert, by kind of channel and outcome (sent; retry: failed, tried again later; failed: given up).',
	labelNames: ['channel', 'outcome'] as const,
	registers: [registry]
});

const databaseUp = new Gauge({
	name: 'librariarr_database_up',
	help: 'Whether the database answered this scrape (1) or not (0).',
	registers: [registry]
});

new Gauge({
	name: 'librariarr_active_sessions',
	help: 'Sessions that have not expired (all instances: read from the database at each scrape; absent while it does not answer).',
	registers: [registry],
	async collect() {
		try {
			const [row] = await withinBudget(
				() => sql<{ n: number }[]>`
					select count(*)::int as n from "Session" where "expiresAt" > now()`
			);
			this.set(row.n);
			databaseUp.set(1);
		} catch {
			// The rest of the page still answers: the scraper sees the database down, not us.
			this.reset();
			databaseUp.set(0);
		}
	}
});

/** A label value from a fixed list, or "other": never a value a request chose. */
const known = (value: string | null | undefined, list: Set<string>) =>
	value && list.has(value) ? value : 'other';

/**
 * Counts an audited event (audit.ts calls this for every one): sign-ins by outcome, and the
 * throttle's refusals by kind (a refused sign-in is both).
 */
export function observeEvent(event: string, method: string | null | undefined) {
	if (Object.hasOwn(OUTCOMES, event)) {
		signIns.inc({
			method: known(method, METHODS),
			outcome: OUTCOMES[event as keyof typeof OUTCOMES]
		});
	} else if (event.endsWith('throttled')) {
		if (event === 'login.throttled') {
			signIns.inc({ method: known(method, METHODS), outcome: 'throttled' });
		}
		throttleRefusals.inc({ kind: Object.hasOwn(REFUSALS, event) ? REFUSALS[event] : 'other' });
	}
}

const CHANNELS = new Set(['ntfy', 'apprise', 'discord', 'webhook']);
const DELIVERY_OUTCOMES = new Set(['sent', 'retry', 'failed']);

/** Counts one try at delivering an alert from the outbox (alerts/sender.ts). */
export function observeAlertDelivery(channel: string, outcome: 'sent' | 'retry' | 'failed') {
	alertDeliveries.inc({
		channel: known(channel, CHANNELS),
		outcome: known(outcome, DELIVERY_OUTCOMES)
	});
}

/** Whether metrics are on (METRICS_TOKEN set). */
export const metricsOn = () => config.metricsToken !== null;

/**
 * Whether an Authorization header carries the metrics token. Compared as SHA-256 digests in
 * constant time, so neither the length nor a prefix of the token shows in the response time.
 */
export function bearerAllowed(authorization: string | null): boolean {
	const token = config.metricsToken;
	if (!token || !authorization) return false;
	const match = /^Bearer[ ]+(\S{1,512})$/i.exec(authorization.trim());
	if (!match) return false;
	const digest = (text: string) => createHash('sha256').update(text).digest();
	return timingSafeEqual(digest(match[1]), digest(token));
}

/** The exposition text and its content type. */
export async function renderMetrics(): Promise<{ body: string; contentType: string }> {
	if (!defaultsOn) {
		collectDefaultMetrics({ register: registry, prefix: 'librariarr_' });
		defaultsOn = true;
	}
	return { body: await registry.metrics(), contentType: registry.contentType };
}
