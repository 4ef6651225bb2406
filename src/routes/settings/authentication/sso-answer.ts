// The one shape every Single Sign-On action answers with, under the form key `sso`. The card's
// components read it through the page's ActionData, so this type is its only definition.
import { fail } from '@sveltejs/kit';
import type { CredentialsReport, DiscoveryReport } from '$lib/server/auth/sources/oidc-report';

/** Step 1's fields as typed, sent back to refill the form (never the client secret). */
export type ConnectionValues = {
	ssoMode: string;
	oidcIssuer: string;
	oidcClientId: string;
	clearClientSecret?: string;
	oidcClientAuthMethod: string;
	oidcScopes: string;
	oidcUsernameClaim: string;
	forwardAuthUserHeader: string;
	forwardAuthEmailHeader: string;
	forwardAuthNameHeader: string;
	forwardAuthLogoutUrl: string;
};

export type SsoAnswer = {
	/** The step whose banner shows the answer. */
	step: 1 | 2 | 3;
	ok?: boolean;
	message?: string;
	warning?: string | null;
	values?: ConnectionValues;
	errors?: Record<string, string>;
	discovery?: { ok: boolean; message: string } & Partial<DiscoveryReport>;
	/** What "Check client credentials" found. */
	credentials?: Omit<CredentialsReport, 'chosen'>;
	/** Step 2's manual form stays open, holding what was pasted. */
	manual?: boolean;
	subject?: string;
	/** Test Discovery ran with a typed secret, which is not sent back (see the step 1 form). */
	secretTyped?: boolean;
	/** A change that adds a way in was refused for want of proof (step-up.ts). */
	stepUp?: { message: string; field: string | null };
};

/** A refusal: nothing was changed. */
export function ssoFail(status: 400 | 403 | 409 | 429 | 502, answer: SsoAnswer) {
	return fail(status, { sso: answer });
}

/** A success (or a report, such as Test Discovery's). */
export function ssoDone(answer: SsoAnswer) {
	return { sso: answer };
}
