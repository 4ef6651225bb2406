import { audit } from '$lib/server/audit';
import { applyLogout, LogoutTokenError, verifyLogoutToken } from '$lib/server/auth/backchannel';
import { addressRule, checkAndCount, WINDOW_MS } from '$lib/server/auth/throttle';
import { readForm } from '$lib/server/form';
import { log } from '$lib/server/log';
import { getSsoConfig } from '$lib/server/sso';
import type { RequestHandler } from './$types';

/** A logout token is a JWT of a few hundred bytes to a few kilobytes. */
const MAX_BODY_BYTES = 16 * 1024;
/** Failed tokens per client address and window: a provider sends none but by mistake. */
const MAX_FAILURES_PER_ADDRESS = 300;

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

/**
 * A token that failed is counted against the address (throttle.ts, per address prefix); past the
 * limit, failures are answered 429 instead of 400 and are no longer logged. Only failures count,
 * so junk from the provider's own address never turns the provider's real tokens away.
 */
async function refused(ip: string, reason: string, description: string) {
	const verdict = await checkAndCount([
		addressRule('backchannel', ip, { maxAttempts: MAX_FAILURES_PER_ADDRESS, windowMs: WINDOW_MS })
	]);
	if (!verdict.allowed) {
		return new Response('Too many invalid logout requests from this address.', {
			status: 429,
			headers: { 'retry-after': String(verdict.retryAfterSeconds), ...noStore }
		});
	}
	log.warn('Back-channel logout refused', { reason, ip });
	return invalid(description);
}

// Called by the identity provider, server to server (no Origin header, no cookie): the one path
// the cross-origin check lets through (see hooks.server.ts). Back-Channel Logout 1.0 §2.8.
// Verified first (backchannel.ts: cheap checks, then the signature), counted only when it fails.
export const POST: RequestHandler = async ({ request, locals }) => {
	const ip = locals.client.ip;
	const form = await readForm(request, MAX_BODY_BYTES, 'The logout request is too large.');
	const token = form.get('logout_token');
	if (typeof token !== 'string' || !token)
		return refused(ip, 'no logout_token', 'logout_token is missing');

	let target;
	try {
		target = await verifyLogoutToken(token, await getSsoConfig());
	} catch (error) {
		if (!(error instanceof LogoutTokenError)) throw error;
		return refused(ip, error.message, 'the logout token is not valid');
	}
	let ended;
	try {
		({ ended } = await applyLogout(target));
	} catch (error) {
		// A replayed jti (or too many tokens at once): a token that failed, counted like the rest.
		if (!(error instanceof LogoutTokenError)) throw error;
		return refused(ip, error.message, 'the logout token is not valid');
	}
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
};
