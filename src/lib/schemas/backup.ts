import * as v from 'valibot';
import { textField } from './fields';

export const PASSPHRASE_MIN = 8;
export const PASSPHRASE_MAX = 1024;

/** A passphrase typed to restore: whatever it was made with, within the field rules. */
export const restorePassphrase = v.pipe(
	textField,
	v.maxLength(PASSPHRASE_MAX, `Keep the passphrase under ${PASSPHRASE_MAX} characters.`)
);

/** A new passphrase (empty: none, or the saved one). */
export const newPassphrase = v.pipe(
	restorePassphrase,
	v.check(
		(p) => p === '' || p.length >= PASSPHRASE_MIN,
		`A passphrase needs at least ${PASSPHRASE_MIN} characters.`
	)
);

export const cronField = v.pipe(
	textField,
	v.trim(),
	v.maxLength(200, 'Keep the cron expression under 200 characters.')
);
