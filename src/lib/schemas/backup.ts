import * as v from 'valibot';
import { isValidCron, SCHEDULES } from '../cron';
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

const RETENTION = 'Keep between 1 and 1000 backups.';
const CRON_INVALID = 'Enter a valid cron expression, for example "0 4 * * *" (04:00 every day).';

/** Settings → Backups, "Schedule". A cron expression is checked only when it is the schedule. */
export const scheduleSchema = v.pipe(
	v.object({
		schedule: v.picklist(SCHEDULES, 'Choose a schedule.'),
		cron: cronField,
		retention: v.pipe(
			textField,
			v.trim(),
			v.regex(/^\d{1,10}$/, RETENTION),
			v.transform(Number),
			v.minValue(1, RETENTION),
			v.maxValue(1000, RETENTION)
		),
		passphrase: newPassphrase,
		clearPassphrase: v.pipe(
			v.string(),
			v.transform((s) => s === 'on')
		)
	}),
	v.forward(
		v.partialCheck(
			[['schedule'], ['cron']],
			(form) => form.schedule !== 'cron' || isValidCron(form.cron),
			CRON_INVALID
		),
		['cron']
	)
);
