import * as v from 'valibot';

export const loginSchema = v.object({
	username: v.pipe(
		v.string(),
		v.trim(),
		v.toLowerCase(),
		v.minLength(1, 'Enter your username.'),
		v.maxLength(64, 'Invalid username or password')
	),
	password: v.pipe(
		v.string(),
		v.minLength(1, 'Enter your password.'),
		v.maxLength(256, 'Invalid username or password')
	)
});
