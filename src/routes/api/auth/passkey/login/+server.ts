import { isRedirect, json } from '@sveltejs/kit';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { auditFailure, auditRepeated } from '$lib/server/audit';
import { readForm } from '$lib/server/form';
import { finishAuthentication, rpIdFor } from '$lib/server/auth/passkeys';
import { safeReturnTo } from '$lib/server/auth/redirect';
import { signIn } from '$lib/server/auth/sign-in';
import { loginPageWays } from '$lib/server/sso';
import { minutesText, secretCheckSucceeded } from '$lib/server/auth/throttle';
import { parseWebauthnResponse } from '$lib/schemas/passkey';
import type { RequestHandler } from './$types';

const REFUSED = {
	expired: 'The passkey request expired or was already used. Try again.',
	unknown: 'That passkey is not registered on this server.',
	'wrong-host':
		'That passkey was registered under another address of this server and does not work here.',
	invalid: 'The passkey could not be verified.',
	counter: 'The passkey could not be verified.',
	off: 'Passkey sign-in is turned off on this server.'
} as const;

/** Finishes a passkey sign-in: JSON `{ location }` to go to, or `{ message }` with a 4xx. */
export const POST: RequestHandler = async (event) => {
	const { locals } = event;
	const form = await readForm(event.request);
	const ip = locals.client.ip;
	if (!(await loginPageWays(rpIdFor(locals.client.origin))).passkey)
		return json({ message: REFUSED.off }, { status: 403 });
	const response = parseWebauthnResponse<AuthenticationResponseJSON>(form.get('response'));
	if (!response) {
		return json({ message: 'The browser sent no usable passkey answer.' }, { status: 400 });
	}
	const result = await finishAuthentication(
		locals.client.origin,
		ip,
		response,
		event.cookies,
		locals.secureCookies
	);
	if (result.ok) {
		await secretCheckSucceeded(result.rules);
		try {
			await signIn(event, result.userId, 'passkey', { passkeyId: result.passkeyId });
		} catch (thrown) {
			// Paused by a "Not me": the browser goes to the login page that says so.
			if (isRedirect(thrown)) return json({ location: thrown.location });
			throw thrown;
		}
		const returnTo = form.get('returnTo');
		return json({ location: safeReturnTo(typeof returnTo === 'string' ? returnTo : null) });
	}
	if (result.reason === 'throttled') {
		const { verdict } = result;
		await auditRepeated({
			event: 'login.throttled',
			method: 'passkey',
			ip,
			detail: { key: verdict.key },
			collapseKey: `${verdict.key}@${verdict.windowEndsAt.toISOString()}`
		});
		return json(
			{
				message: `Too many passkey sign-in attempts from your address. Try again in ${minutesText(verdict.retryAfterSeconds)}.`
			},
			{ status: 429, headers: { 'retry-after': String(verdict.retryAfterSeconds) } }
		);
	}
	// An unknown passkey names no account: counted, not stored (audit.ts).
	await auditFailure({
		event: 'login.failed',
		userId: result.userId ?? null,
		method: 'passkey',
		ip,
		detail: { reason: result.reason }
	});
	return json({ message: REFUSED[result.reason] }, { status: 400 });
};
