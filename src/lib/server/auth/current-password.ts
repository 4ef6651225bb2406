// "Your current password" as proof for a change in settings, throttled under its own kind
// ('current-password', account `user:<id>`): a stolen session cannot guess the password either.
import type { RequestEvent } from '@sveltejs/kit';
import { getPasswordHash } from '../users';
import { verifyPassword } from './password';
import { checkSecret, type SecretRefusal } from './throttle';

export type PasswordCheck = { ok: true } | SecretRefusal;

export async function checkCurrentPassword(
	event: Pick<RequestEvent, 'locals' | 'setHeaders'>,
	userId: number,
	password: string
): Promise<PasswordCheck> {
	const hash = await getPasswordHash(userId);
	if (!hash) return { ok: false, status: 400, message: 'Your account has no password.' };
	const checked = await checkSecret(
		event,
		'current-password',
		{
			ip: event.locals.client.ip,
			account: `user:${userId}`,
			userId,
			refusedEvent: 'settings.credentials_throttled'
		},
		() => verifyPassword(hash, password),
		'That is not your current password.'
	);
	return checked.ok ? { ok: true } : checked;
}
