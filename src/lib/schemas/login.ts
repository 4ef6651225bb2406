import * as v from 'valibot';
import { textField } from './fields';

export const loginSchema = v.object({
	username: v.pipe(
		textField,
		v.trim(),
		v.toLowerCase(),
		v.minLength(1, 'Enter your username.'),
		v.maxLength(64, 'Invalid username or password')
	),
	password: v.pipe(
		textField,
		v.minLength(1, 'Enter your password.'),
		v.maxLength(256, 'Invalid username or password')
	)
});
