import * as v from 'valibot';
import { textField } from './fields';

export const AUDIT_RETENTION_MIN_DAYS = 1;
export const AUDIT_RETENTION_MAX_DAYS = 3650;
const RANGE = `Keep audit entries for ${AUDIT_RETENTION_MIN_DAYS} to ${AUDIT_RETENTION_MAX_DAYS} days (a whole number).`;

/** Settings → Backups, "Audit trail": how many days audit entries are kept. */
export const auditRetentionSchema = v.object({
	auditRetentionDays: v.pipe(
		textField,
		v.trim(),
		v.regex(/^\d{1,5}$/, RANGE),
		v.transform(Number),
		v.minValue(AUDIT_RETENTION_MIN_DAYS, RANGE),
		v.maxValue(AUDIT_RETENTION_MAX_DAYS, RANGE)
	)
});
