import { fail, redirect } from '@sveltejs/kit';
import { readForm } from '$lib/server/form';
import * as v from 'valibot';
import { audit, auditRepeated } from '$lib/server/audit';
import { knownDevice } from '$lib/server/auth/known-device';
import {
	needsRehash,
	hashPassword,
	verifyAgainstDummy,
	verifyPassword
} from '$lib/server/auth/password';
import { safeReturnTo } from '$lib/server/auth/redirect';
import { signIn } from '$lib/server/auth/sign-in';
import {
	checkAndCount,
	minutesText,
	secretCheckRules,
	secretCheckSucceeded,
	type Verdict
} from '$lib/server/auth/throttle';
import {
	autoRedirectAllowed,
	loginPageWays,
	rememberAutoRedirect
} from '$lib/server/auth/sso-login';
import { findUserByLocalUsername, updatePasswordHash } from '$lib/server/users';
import { loginSchema } from '$lib/schemas/login';
import { formFields } from '$lib/schemas/fields';
import { SSO_ERRORS } from '$lib/sso-errors';
import { PLEX_ERRORS } from '$lib/plex-errors';
import type { Actions, PageServerLoad } from './$types';

const INVALID = 'Invalid username or password';

async function localFormShown() {
	return (await loginPageWays()).local;
}

/** Why the attempt was refused and when to try again, by the key that refused it. */
function refusalText(verdict: Extract<Verdict, { allowed: false }>) {
	const wait = `Try again in ${minutesText(verdict.retryAfterSeconds)}`;
	switch (verdict.scope) {
		case 'account':
			return `Too many failed sign-in attempts for this account from browsers it has not signed in from before. ${wait}, or sign in from a browser you have used before.`;
		case 'pair':
			return `Too many failed sign-in attempts for this account from your address. ${wait}.`;
		case 'device':
			return `Too many failed sign-in attempts from this browser. ${wait}.`;
		default:
			return `Too many failed sign-in attempts from your address. ${wait}.`;
	}
}

export const load: PageServerLoad = async ({ locals, url, cookies }) => {
	if (locals.user) redirect(303, safeReturnTo(url.searchParams.get('returnTo')));
	const code = url.searchParams.get('sso_error');
	const shown = await loginPageWays();
	if (autoRedirectAllowed(shown.ssoAutoRedirect, shown.sso, url, cookies)) {
		rememberAutoRedirect(cookies, locals.secureCookies);
		const returnTo = safeReturnTo(url.searchParams.get('returnTo'));
		redirect(
			303,
			returnTo === '/' ? shown.ssoPath : `${shown.ssoPath}?returnTo=${encodeURIComponent(returnTo)}`
		);
	}
	const plexCode = url.searchParams.get('plex_error');
	return {
		showPlex: shown.plex,
		setupDone: url.searchParams.get('setup') === 'done',
		signedOut: url.searchParams.get('signed_out') === '1',
		plexError: plexCode && Object.hasOwn(PLEX_ERRORS, plexCode) ? PLEX_ERRORS[plexCode] : null,
		showLocal: shown.local,
		showSso: shown.sso !== 'off',
		showPasskey: shown.passkey,
		ssoPath: shown.ssoPath,
		ssoError: code && Object.hasOwn(SSO_ERRORS, code) ? SSO_ERRORS[code] : null,
		returnTo: safeReturnTo(url.searchParams.get('returnTo'))
	};
};

export const actions: Actions = {
	default: async (event) => {
		const { request, locals, setHeaders } = event;
		const form = formFields(await readForm(request), ['username', 'password', 'returnTo'] as const);
		const username = form.username.trim();
		const ip = locals.client.ip;

		if (!(await localFormShown())) {
			return fail(403, { username, message: 'Local sign-in is turned off for this server.' });
		}
		const parsed = v.safeParse(loginSchema, form);
		if (!parsed.success) return fail(400, { username, message: parsed.issues[0].message });

		// Counted before the password is checked, in one step per key (throttle.ts).
		const user = await findUserByLocalUsername(parsed.output.username);
		const rules = secretCheckRules('password', {
			ip,
			account: parsed.output.username,
			device: knownDevice(event.cookies, user?.id)
		});
		const verdict = await checkAndCount(rules);
		if (!verdict.allowed) {
			setHeaders({ 'retry-after': String(verdict.retryAfterSeconds) });
			await auditRepeated({
				event: 'login.throttled',
				method: 'local',
				ip,
				detail: { username: parsed.output.username, key: verdict.key },
				collapseKey: `${verdict.key}@${verdict.windowEndsAt.toISOString()}`
			});
			return fail(429, { username, message: refusalText(verdict) });
		}

		const ok = user?.passwordHash
			? await verifyPassword(user.passwordHash, parsed.output.password)
			: await verifyAgainstDummy(parsed.output.password);
		if (!user || !ok) {
			await audit({
				event: 'login.failed',
				userId: user?.id ?? null,
				method: 'local',
				ip,
				detail: { username: parsed.output.username }
			});
			return fail(400, { username, message: INVALID });
		}

		if (needsRehash(user.passwordHash!)) {
			await updatePasswordHash(user.id, await hashPassword(parsed.output.password));
		}
		await secretCheckSucceeded(rules);
		await signIn(event, user.id, 'local');
		redirect(303, safeReturnTo(form.returnTo));
	}
};
