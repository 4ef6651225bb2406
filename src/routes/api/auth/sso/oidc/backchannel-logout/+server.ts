import { audit } from '$lib/server/audit';
import { applyLogout, LogoutTokenError, verifyLogoutToken } from '$lib/server/auth/backchannel';
import { checkAndCount, WINDOW_MS } from '$lib/server/auth/throttle';
import { readForm } from '$lib/server/form';
import { log } from '$lib/server/log';
import { getSsoConfig } from '$lib/server/sso';
import type { RequestHandler } from './$types';

/** A logout token is a JWT of a few hundred bytes to a few kilobytes. */
const MAX_BODY_BYTES = 16 * 1024;
/** Per client address and window: a provider logs out far fewer sessions than this. */
const MAX_PER_ADDRESS = 300;

const noStore = { 'cache-control': 'no-store' };

function invalid(description: string) {
	return new Response(
		JSON.stringify({ error: 'invalid_request', error_description: description }),
		{
			status: 400,
			headers: { 'content-type': 'application/json', ...noStore }
		}
	);
}

// Called by the identity provider, server to server (no Origin header, no cookie): the one path
// the cross-origin check lets through (see hooks.server.ts). Back-Channel Logout 1.0 §2.8.
export const POST: RequestHandler = async ({ request, locals }) => {
	const ip = locals.client.ip;
	const verdict = await checkAndCount([
		{
			key: `backchannel:address:${ip}`,
			kind: 'backchannel',
			scope: 'address',
			maxAttempts: MAX_PER_ADDRESS,
			windowMs: WINDOW_MS
		}
	]);
	if (!verdict.allowed) {
		return new Response('Too many logout requests from this address.', {
			status: 429,
			headers: { 'retry-after': String(verdict.retryAfterSeconds), ...noStore }
		});
	}
	const form = await readForm(request, MAX_BODY_BYTES, 'The logout request is too large.');
	const token = form.get('logout_token');
	if (typeof token !== 'string' || !token) return invalid('logout_token is missing');

	try {
		const target = await verifyLogoutToken(token, await getSsoConfig());
		const { ended } = await applyLogout(target);
		const detail = { issuer: target.issuer, sid: target.sid, sub: target.sub, via: 'backchannel' };
		if (ended.length === 0) {
			await audit({
				event: 'logout.backchannel',
				method: 'oidc',
				ip,
				detail: { ...detail, sessions: 0 }
			});
		}
		for (const { userId, count } of ended) {
			await audit({
				event: 'logout.backchannel',
				userId,
				method: 'oidc',
				ip,
				detail: { ...detail, sessions: count }
			});
		}
		return new Response(null, { status: 200, headers: noStore });
	} catch (error) {
		if (!(error instanceof LogoutTokenError)) throw error;
		log.warn('Back-channel logout refused', { reason: error.message, ip });
		return invalid('the logout token is not valid');
	}
};
