// Field rules shared by the forms. Lengths are checked on the trimmed value so that a password
// of eight spaces, or a name of blanks, does not pass.
import * as v from 'valibot';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** C0 controls (NUL, escape, line breaks, tab), DEL and the C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Every text field of every form starts here: a string without control characters. They have
 * no place in a name, a username, a URL or a password, a NUL is refused by PostgreSQL, and an
 * escape sequence would reach the admin's terminal through logs and the recovery CLI.
 */
export const textField = v.pipe(
	v.string('Enter a value.'),
	v.check(
		(s) => !CONTROL.test(s),
		'Remove the control characters (such as tabs, line breaks or escape codes) from this field.'
	)
);

export const displayName = v.pipe(
	textField,
	v.trim(),
	v.minLength(1, 'Enter a display name.'),
	v.maxLength(100, 'Keep the display name under 100 characters.')
);

export const localUsername = v.pipe(
	textField,
	v.trim(),
	v.toLowerCase(),
	v.minLength(3, 'Usernames have at least 3 characters.'),
	v.maxLength(64, 'Keep the username under 64 characters.'),
	v.regex(/^[a-z0-9._@-]+$/, 'Use letters, digits, and . _ @ - only.')
);

export const newPassword = v.pipe(
	textField,
	v.check(
		(p) => p.trim().length >= PASSWORD_MIN,
		`Passwords have at least ${PASSWORD_MIN} characters (not counting spaces at the ends).`
	),
	v.maxLength(PASSWORD_MAX, `Keep the password under ${PASSWORD_MAX} characters.`)
);

/** A token the app generated (OIDC state, a Plex transaction id): printable ASCII, bounded. */
export const opaqueToken = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,256}$/));

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
