// "Your current password" as proof for a change in settings, throttled under its own kind
// ('current-password', account `user:<id>`): a stolen session cannot guess the password either.
import type { RequestEvent } from '@sveltejs/kit';
import { auditRepeated } from '../audit';
import { getPasswordHash } from '../users';
import { verifyPassword } from './password';
import { checkAndCount, minutesText, secretCheckRules, secretCheckSucceeded } from './throttle';

export type PasswordCheck = { ok: true } | { ok: false; status: 400 | 429; message: string };

export async function checkCurrentPassword(
	event: Pick<RequestEvent, 'locals' | 'setHeaders'>,
	userId: number,
	password: string
): Promise<PasswordCheck> {
	const hash = await getPasswordHash(userId);
	if (!hash) return { ok: false, status: 400, message: 'Your account has no password.' };
	const ip = event.locals.client.ip;
	const rules = secretCheckRules('current-password', { ip, account: `user:${userId}` });
	const verdict = await checkAndCount(rules);
	if (!verdict.allowed) {
		event.setHeaders({ 'retry-after': String(verdict.retryAfterSeconds) });
		await auditRepeated({
			event: 'settings.credentials_throttled',
			userId,
			ip,
			detail: { key: verdict.key },
			collapseKey: `${verdict.key}@${verdict.windowEndsAt.toISOString()}`
		});
		return {
			ok: false,
			status: 429,
			message: `Too many wrong current passwords. Try again in ${minutesText(verdict.retryAfterSeconds)}.`
		};
	}
	if (!(await verifyPassword(hash, password))) {
		return { ok: false, status: 400, message: 'That is not your current password.' };
	}
	await secretCheckSucceeded(rules);
	return { ok: true };
}
