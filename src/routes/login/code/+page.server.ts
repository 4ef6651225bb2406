import { fail, redirect } from '@sveltejs/kit';
import { findPendingSignIn, finishPendingSignIn } from '$lib/server/auth/pending-sign-in';
import { safeReturnTo } from '$lib/server/auth/redirect';
import { checkCode, type CodeKind } from '$lib/server/auth/second-step';
import { signIn } from '$lib/server/auth/sign-in';
import { signInWithTotp } from '$lib/server/auth/totp-step';
import { formFields } from '$lib/schemas/fields';
import { readForm } from '$lib/server/form';
import { rpIdFor } from '$lib/server/auth/passkeys';
import { secondFactorsOf } from '$lib/server/sso';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

// The second step of a password sign-in with the authenticator app on: a code from the app, or a
// recovery code instead. An OIDC sign-in that "Require two-factor for SSO sign-ins" held back
// waits here too; it may use a passkey instead (the passkey sign-in, which needs JavaScript).
// Without a sign-in waiting in this browser there is nothing to do here.
const EXPIRED = 'That sign-in has expired (it lasts five minutes). Sign in again.';

export const load: PageServerLoad = async ({ locals, cookies }) => {
	if (locals.user) redirect(303, '/');
	const pending = await findPendingSignIn(cookies);
	if (!pending || pending.method !== 'oidc')
		return { waiting: pending !== null, sso: false, totp: true, passkey: false, returnTo: '/' };
	const factors = await secondFactorsOf(pending.userId, rpIdFor(locals.client.origin));
	return {
		waiting: true,
		sso: true,
		totp: factors.totp,
		passkey: factors.passkey,
		returnTo: pending.returnTo ?? '/'
	};
};

async function finish(event: RequestEvent, kind: CodeKind) {
	const form = formFields(await readForm(event.request), ['code'] as const);
	if (kind === 'totp') {
		if (!form.code.trim() || form.code.length > 128) {
			const waiting = (await findPendingSignIn(event.cookies)) !== null;
			return fail(400, { kind, message: waiting ? 'Enter the code.' : EXPIRED });
		}
		// The authenticator code: one statement before it is checked, one after (totp-step.ts).
		const signedIn = await signInWithTotp(event, form.code);
		if (!signedIn.ok) return fail(signedIn.status, { kind, message: signedIn.message });
		redirect(303, safeReturnTo(signedIn.returnTo));
	}
	const pending = await findPendingSignIn(event.cookies);
	if (!pending) return fail(400, { kind, message: EXPIRED });
	if (!form.code.trim() || form.code.length > 128) {
		return fail(400, { kind, message: 'Enter the code.' });
	}
	const check = await checkCode(
		event,
		{ userId: pending.userId, account: pending.account },
		kind,
		form.code,
		'recovery-code'
	);
	if (!check.ok) return fail(check.status, { kind, message: check.message });
	// Single use: of two requests that both got this far, one finds the sign-in already finished.
	if (!(await finishPendingSignIn(event.cookies, event.locals.secureCookies))) {
		return fail(400, { kind, message: EXPIRED });
	}
	await signIn(event, pending.userId, 'recovery-code', { keepSignedIn: pending.keepSignedIn });
	redirect(303, '/settings/authentication?recovered=1');
}

export const actions = {
	totp: (event) => finish(event, 'totp'),
	recovery: (event) => finish(event, 'recovery-code')
} satisfies Actions;
