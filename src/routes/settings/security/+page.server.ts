import { error, fail } from '@sveltejs/kit';
import * as v from 'valibot';
import { audit } from '$lib/server/audit';
import { config } from '$lib/server/config';
import { diagnose } from '$lib/server/diagnostics';
import { readForm } from '$lib/server/form';
import { textField } from '$lib/schemas/fields';
import { getSsoConfig } from '$lib/server/sso';
import { requireUser } from '$lib/server/auth/guard';
import { clearThrottle, listActiveThrottles } from '$lib/server/auth/throttle';
import { describeThrottleKey } from '$lib/server/auth/throttle-keys';
import { listSessions, revokeOtherSessions, revokeSession } from '$lib/server/auth/sessions-list';
import { getSessionPolicy } from '$lib/server/auth/session-policy';
import { stepUpView } from '$lib/server/auth/step-up';
import { pausedFor, resumeSignIn } from '$lib/server/auth/not-me';
import {
	eventLabel,
	HISTORY_METHODS,
	historyEvents,
	historyPage,
	parseHistoryQuery
} from '$lib/server/history';
import { loadTwoFactor, twoFactorActions } from './two-factor-actions';
import { loadPasskeys, passkeyActions } from './passkey-actions';
import { apiKeyActions, loadApiKeys } from './api-key-actions';
import { sessionPolicyActions } from './session-policy-actions';
import type { Actions, PageServerLoad } from './$types';

const throttleField = v.object({
	// The shared text rule first: a NUL reaching PostgreSQL's text comparison is a 500, not a 404.
	key: v.pipe(
		v.string('Choose a limit to clear.'),
		textField,
		v.minLength(1, 'Choose a limit to clear.'),
		v.maxLength(1000, 'That is not a limit of this list.')
	)
});

const sessionField = v.object({
	session: v.pipe(
		v.string('Choose a session to sign out.'),
		v.uuid('That is not a session of this list.')
	)
});

export const load: PageServerLoad = async (event) => {
	const { user, session } = requireUser(event);
	const events = await historyEvents();
	const query = parseHistoryQuery(event.url.searchParams, events);
	if (!query.ok) error(400, query.message);
	const [sessions, history, sso, throttles] = await Promise.all([
		listSessions(user.id, session.id),
		historyPage(query.filter),
		getSsoConfig(),
		listActiveThrottles()
	]);
	const seen = diagnose({
		client: event.locals.client,
		headers: event.request.headers,
		host: event.url.host,
		secureCookies: event.locals.secureCookies,
		config,
		forwardAuth:
			sso.ssoMode === 'FORWARD_AUTH'
				? {
						user: sso.forwardAuthUserHeader,
						email: sso.forwardAuthEmailHeader,
						name: sso.forwardAuthNameHeader
					}
				: null
	});
	return {
		sessions: sessions.map((s) => ({
			...s,
			createdAt: s.createdAt.toISOString(),
			lastSeenAt: s.lastSeenAt.toISOString()
		})),
		history: {
			filter: query.filter,
			events: events.map((name) => ({ value: name, label: eventLabel(name) })),
			methods: Object.entries(HISTORY_METHODS).map(([value, label]) => ({ value, label })),
			total: history.total,
			page: history.page,
			pages: history.pages,
			entries: history.entries.map(({ userAgent: _ua, ...e }) => ({
				...e,
				eventLabel: eventLabel(e.event),
				occurredAt: e.occurredAt.toISOString(),
				lastOccurredAt: e.lastOccurredAt?.toISOString() ?? null
			}))
		},
		throttles: throttles.map((t) => ({
			key: t.key,
			...describeThrottleKey(t.key, t.kind),
			attempts: t.attempts,
			maxAttempts: t.maxAttempts,
			liftsAt: t.liftsAt.toISOString()
		})),
		seen,
		twoFactor: await loadTwoFactor(user),
		passkeys: await loadPasskeys(event),
		apiKeys: await loadApiKeys(event),
		sessionPolicy: await getSessionPolicy(),
		recoveryAddress: `${event.locals.client.origin}/login/recovery`,
		stepUp: await stepUpView(user, session, event.locals.client.origin),
		paused: await pausedFor(user.id)
	};
};

export const actions = {
	...twoFactorActions,
	...passkeyActions,
	...apiKeyActions,
	...sessionPolicyActions,
	revoke: async (event) => {
		const { user, session } = requireUser(event);
		const form = Object.fromEntries(await readForm(event.request));
		const parsed = v.safeParse(sessionField, form);
		if (!parsed.success) {
			return fail(400, { sessions: { ok: false, message: parsed.issues[0].message } });
		}
		const result = await revokeSession(user.id, session.id, parsed.output.session);
		if (result === 'current') {
			return fail(400, {
				sessions: {
					ok: false,
					message: 'That is this browser’s session: use Sign out at the top of the page instead.'
				}
			});
		}
		if (result === 'not_found') {
			return fail(404, {
				sessions: { ok: false, message: 'That session has already ended.' }
			});
		}
		await audit({
			event: 'session.revoked',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { sessions: 1 }
		});
		return { sessions: { ok: true, message: 'The session was signed out.' } };
	},

	clearThrottle: async (event) => {
		const { user } = requireUser(event);
		const form = Object.fromEntries(await readForm(event.request));
		const parsed = v.safeParse(throttleField, form);
		if (!parsed.success) {
			return fail(400, { throttles: { ok: false, message: parsed.issues[0].message } });
		}
		const { key } = parsed.output;
		if (!(await clearThrottle(key))) {
			return fail(404, {
				throttles: { ok: false, message: 'That limit has already lifted.' }
			});
		}
		const view = describeThrottleKey(key, key.split(':', 1)[0]);
		await audit({
			event: 'throttle.cleared',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { scope: view.scope, target: view.target }
		});
		return {
			throttles: { ok: true, message: `Cleared the limit on ${view.target}.` }
		};
	},

	resumeSignIn: async (event) => {
		const { user } = requireUser(event);
		if (!(await resumeSignIn(user.id, event.locals.client.ip))) {
			return fail(404, { paused: { ok: false, message: 'Nothing is paused.' } });
		}
		return { paused: { ok: true, message: 'Sign-in works again every way it is set up.' } };
	},

	revokeOthers: async (event) => {
		const { user, session } = requireUser(event);
		const count = await revokeOtherSessions(user.id, session.id);
		await audit({
			event: 'session.revoked',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { sessions: count, others: true }
		});
		return {
			sessions: {
				ok: true,
				message:
					count === 0
						? 'There were no other sessions.'
						: `Signed out ${count} other session${count === 1 ? '' : 's'}.`
			}
		};
	}
} satisfies Actions;
