// Field rules shared by the forms. Lengths are checked on the trimmed value so that a password
// of eight spaces, or a name of blanks, does not pass.
import * as v from 'valibot';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

export const displayName = v.pipe(
	v.string('Enter a display name.'),
	v.trim(),
	v.minLength(1, 'Enter a display name.'),
	v.maxLength(100, 'Keep the display name under 100 characters.')
);

export const localUsername = v.pipe(
	v.string('Enter a username.'),
	v.trim(),
	v.toLowerCase(),
	v.minLength(3, 'Usernames have at least 3 characters.'),
	v.maxLength(64, 'Keep the username under 64 characters.'),
	v.regex(/^[a-z0-9._@-]+$/, 'Use letters, digits, and . _ @ - only.')
);

export const newPassword = v.pipe(
	v.string('Enter a password.'),
	v.check(
		(p) => p.trim().length >= PASSWORD_MIN,
		`Passwords have at least ${PASSWORD_MIN} characters (not counting spaces at the ends).`
	),
	v.maxLength(PASSWORD_MAX, `Keep the password under ${PASSWORD_MAX} characters.`)
);

/** Reads the named string fields of a form; anything missing or a file becomes ''. */
export function formFields<K extends string>(
	form: FormData,
	names: readonly K[]
): Record<K, string> {
	const out = {} as Record<K, string>;
	for (const name of names) {
		const value = form.get(name);
		out[name] = typeof value === 'string' ? value : '';
	}
	return out;
}

/** Field → first message, for showing each error beside its field. */
export function fieldErrors(issues: v.BaseIssue<unknown>[]): Record<string, string> {
	const errors: Record<string, string> = {};
	for (const issue of issues) {
		const key = v.getDotPath(issue) ?? 'form';
		errors[key] ??= issue.message;
	}
	return errors;
}
