import * as v from 'valibot';
import { localUsername, newPassword } from './fields';

export const credentialsSchema = v.pipe(
	v.object({
		localUsername,
		currentPassword: v.string(),
		// Empty means "keep the current password".
		newPassword: v.union([v.literal(''), newPassword]),
		confirmPassword: v.string()
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
