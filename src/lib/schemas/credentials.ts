import * as v from 'valibot';
import { localUsername, newPassword, textField } from './fields';

export const credentialsSchema = v.pipe(
	v.object({
		localUsername,
		currentPassword: v.pipe(textField, v.maxLength(256, 'Keep the password under 256 characters.')),
		// Empty means "keep the current password".
		newPassword: v.union([v.literal(''), newPassword]),
		confirmPassword: textField
	}),
	v.forward(
		v.partialCheck(
			[['newPassword'], ['confirmPassword']],
			(i) => i.newPassword === i.confirmPassword,
			'The passwords do not match.'
		),
		['confirmPassword']
	)
);
