// Settings → Security, "Sessions": the session policy's form. Both limits are whole hours; the
// page offers presets, and the server takes any whole number of hours in range (so a value set
// by SQL can be shown and kept). The idle timeout is off as 'off'.
import * as v from 'valibot';
import { textField } from './fields';

export const LIFETIME_MAX_HOURS = 365 * 24;
export const IDLE_MAX_HOURS = 30 * 24;
export const DEFAULT_LIFETIME_HOURS = 30 * 24;
/** A session made with "Keep me signed in" unchecked lasts at most this long. */
export const BROWSER_SESSION_HOURS = 12;

export const LIFETIME_CHOICES = [12, 24, 7 * 24, 30 * 24, 90 * 24, 365 * 24];
export const IDLE_CHOICES = [1, 8, 24, 7 * 24, 30 * 24];

/** "1 hour", "12 hours", "1 day", "30 days": whole days when it divides, hours otherwise. */
export function hoursText(hours: number): string {
	if (hours % 24 === 0) return hours === 24 ? '1 day' : `${hours / 24} days`;
	return hours === 1 ? '1 hour' : `${hours} hours`;
}

const LIFETIME_RANGE = `Choose a lifetime from 1 hour to ${hoursText(LIFETIME_MAX_HOURS)}.`;
const IDLE_RANGE = `Choose an idle timeout from 1 hour to ${hoursText(IDLE_MAX_HOURS)}, or Off.`;

const inRange = (s: string, max: number) => /^\d{1,5}$/.test(s) && +s >= 1 && +s <= max;

export const sessionPolicySchema = v.object({
	lifetimeHours: v.pipe(
		textField,
		v.trim(),
		v.check((s) => inRange(s, LIFETIME_MAX_HOURS), LIFETIME_RANGE),
		v.transform(Number)
	),
	idleHours: v.pipe(
		textField,
		v.trim(),
		v.check((s) => s === 'off' || inRange(s, IDLE_MAX_HOURS), IDLE_RANGE),
		v.transform((s) => (s === 'off' ? null : Number(s)))
	)
});

export type SessionPolicy = { lifetimeHours: number; idleHours: number | null };

/** Whether `next` lets some session last longer than `current` does (that needs step-up). */
export function lengthens(current: SessionPolicy, next: SessionPolicy) {
	if (next.lifetimeHours > current.lifetimeHours) return true;
	if (current.idleHours === null) return false;
	return next.idleHours === null || next.idleHours > current.idleHours;
}
