import { fail, redirect } from '@sveltejs/kit';
import { readForm } from '$lib/server/form';
import { rpIdFor } from '$lib/server/auth/passkeys';
import * as v from 'valibot';
import { safeReturnTo } from '$lib/server/auth/redirect';
import { signInWithPassword } from '$lib/server/auth/sign-in';
import { isPauseKey, PAUSE_WORDS } from '$lib/server/auth/not-me';
import { minutesText, type Verdict } from '$lib/server/auth/throttle';
import {
	autoRedirectAllowed,
	loginPageWays,
	rememberAutoRedirect,
	ssoButtonShown
} from '$lib/server/sso';
import { loginSchema } from '$lib/schemas/login';
import { formFields } from '$lib/schemas/fields';
import {
	SSO_ERRORS,
	SSO_ERROR_HINTS,
	SSO_ERRORS_RETRY,
	SSO_NOT_STARTED_HINT
} from '$lib/sso-errors';
import { PLEX_ERRORS } from '$lib/plex-errors';
import { config } from '$lib/server/config';
import type { Actions, PageServerLoad } from './$types';

const INVALID = 'Invalid username or password';

async function localFormShown(origin: string) {
	return (await loginPageWays(rpIdFor(origin))).local;
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
		case 'known':
			return `Too many failed sign-in attempts from browsers at your address that signed in before. ${wait}.`;
		default:
			return `Too many failed sign-in attempts from your address. ${wait}.`;
	}
}

export const load: PageServerLoad = async ({ locals, url, cookies }) => {
	if (locals.user) redirect(303, safeReturnTo(url.searchParams.get('returnTo')));
	const code = url.searchParams.get('sso_error');
	const shown = await loginPageWays(rpIdFor(locals.client.origin));
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
		// A sign-in refused because a "Not me" paused its method (auth/not-me.ts).
		paused: (() => {
			const key = url.searchParams.get('paused');
			return isPauseKey(key) ? PAUSE_WORDS[key] : null;
		})(),
		signedOut: url.searchParams.get('signed_out') === '1',
		// After a forward-auth sign-out: whether the proxy was asked to end its session too.
		proxyAsked: url.searchParams.has('proxy') ? url.searchParams.get('proxy') === '1' : null,
		plexError: plexCode && Object.hasOwn(PLEX_ERRORS, plexCode) ? PLEX_ERRORS[plexCode] : null,
		showLocal: shown.local,
		showSso: ssoButtonShown(shown.sso, url, cookies),
		// Shown while SSO is being set up (nobody linked yet): it only finds the subject to link.
		ssoSetup: shown.sso === 'probe',
		// A note for the admin: the way back is on, and should not stay on.
		override: config.ssoDisableOverride,
		showPasskey: shown.passkey,
		ssoPath: shown.ssoPath,
		// Only when the button is shown: a page without SSO does not carry its words at all.
		ssoButtonText: ssoButtonShown(shown.sso, url, cookies) ? shown.ssoButtonText : null,
		ssoError: code && Object.hasOwn(SSO_ERRORS, code) ? SSO_ERRORS[code] : null,
		ssoErrorHint:
			code === 'state_mismatch' && url.searchParams.get('flow') === 'none'
				? SSO_NOT_STARTED_HINT
				: code && Object.hasOwn(SSO_ERROR_HINTS, code)
					? SSO_ERROR_HINTS[code]
					: null,
		// "Try again" only when the login page offers SSO at all.
		ssoRetry:
			code !== null && SSO_ERRORS_RETRY.has(code) && ssoButtonShown(shown.sso, url, cookies),
		returnTo: safeReturnTo(url.searchParams.get('returnTo'))
	};
};

const LOCAL_OFF = 'Local sign-in is turned off for this server.';

export const actions = {
	default: async (event) => {
		const { request, setHeaders } = event;
		const form = formFields(await readForm(request), [
			'username',
			'password',
			'returnTo',
			'keepSignedIn',
			'keepSignedInOffered'
		] as const);
		// An unchecked box sends nothing: the hidden field says the form asked. A post without it
		// (a script) keeps the default, as before the box existed.
		const keepSignedIn = form.keepSignedIn === 'yes' || form.keepSignedInOffered !== 'yes';
		const username = form.username.trim();

		const parsed = v.safeParse(loginSchema, form);
		if (!parsed.success) {
			// "Turned off" comes first, as for any other attempt.
			if (!(await localFormShown(event.locals.client.origin)))
				return fail(403, { username, keepSignedIn, message: LOCAL_OFF });
			return fail(400, { username, keepSignedIn, message: parsed.issues[0].message });
		}
		const result = await signInWithPassword(
			event,
			parsed.output.username,
			parsed.output.password,
			form.returnTo,
			keepSignedIn
		);
		// TOTP on: the password was right, and the code comes next, with no session yet.
		if (result.outcome === 'second-step') redirect(303, '/login/code');
		switch (result.outcome) {
			case 'form-not-offered':
				return fail(403, { username, keepSignedIn, message: LOCAL_OFF });
			case 'throttled':
				setHeaders({ 'retry-after': String(result.verdict.retryAfterSeconds) });
				return fail(429, { username, keepSignedIn, message: refusalText(result.verdict) });
			case 'invalid':
				return fail(400, { username, keepSignedIn, message: INVALID });
			case 'signed-in':
				redirect(303, safeReturnTo(form.returnTo));
		}
	}
} satisfies Actions;
