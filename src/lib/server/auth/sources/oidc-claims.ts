// What the app takes from an identity provider's claims besides the subject: the name shown while
// signed in through SSO, and the email. Claims are the provider's words, not ours: a value is
// used only when it is a non-blank string without control characters (they would reach logs and
// the page), trimmed and cut to 200 characters. They never choose the account (the subject does).

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const MAX = 200;
const DEFAULT_USERNAME_CLAIM = 'preferred_username';

export function claimString(claims: Record<string, unknown>, name: string): string | null {
	const value = claims[name];
	if (typeof value !== 'string' || CONTROL.test(value)) return null;
	const trimmed = value.trim();
	return trimmed ? trimmed.slice(0, MAX) : null;
}

/**
 * The display name. With the default username claim, the person's `name` comes first (what people
 * call them), then `preferred_username`. A username claim the admin chose on purpose (anything but
 * the default) comes before `name`: the setting says which claim names the user in the app. The
 * subject when none is usable. `email` is not a name and is not used for it.
 */
export function displayNameFrom(
	claims: Record<string, unknown>,
	usernameClaim: string,
	subject: string
): string {
	const chosen = usernameClaim !== DEFAULT_USERNAME_CLAIM ? [usernameClaim] : [];
	for (const name of [...chosen, 'name', DEFAULT_USERNAME_CLAIM]) {
		const value = claimString(claims, name);
		if (value) return value;
	}
	return subject.slice(0, MAX);
}
