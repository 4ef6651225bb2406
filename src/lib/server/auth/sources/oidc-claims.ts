// What the app takes from an identity provider's claims besides the subject: the name shown while
// signed in through SSO, and the email. Claims are the provider's words, not ours: a value is
// used only when it is a non-blank string without control characters (they would reach logs and
// the page), trimmed and cut to 200 characters. They never choose the account (the subject does).

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const MAX = 200;

export function claimString(claims: Record<string, unknown>, name: string): string | null {
	const value = claims[name];
	if (typeof value !== 'string' || CONTROL.test(value)) return null;
	const trimmed = value.trim();
	return trimmed ? trimmed.slice(0, MAX) : null;
}

/**
 * The display name: the person's `name` first (what people call them), then the configured
 * username claim, then `preferred_username`, then `email`, and the subject when none is usable.
 */
export function displayNameFrom(
	claims: Record<string, unknown>,
	usernameClaim: string,
	subject: string
): string {
	for (const name of ['name', usernameClaim, 'preferred_username', 'email']) {
		const value = claimString(claims, name);
		if (value) return value;
	}
	return subject.slice(0, MAX);
}
