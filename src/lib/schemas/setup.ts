import * as v from 'valibot';
import { displayName, localUsername, newPassword, textField } from './fields';

export const setupSchema = v.pipe(
	v.object({ displayName, localUsername, password: newPassword, confirmPassword: textField }),
	v.forward(
		v.partialCheck(
			[['password'], ['confirmPassword']],
			(i) => i.password === i.confirmPassword,
			'The passwords do not match.'
		),
		['confirmPassword']
	)
);
