// What a backup schedule means, as pure functions over croner (no database): the presets, cron
// validation, and whether an occurrence fell between the last backup and now.
import { Cron } from 'croner';

export const SCHEDULES = ['off', 'daily', 'weekly', 'cron'] as const;
export type Schedule = (typeof SCHEDULES)[number];

/** Daily at 03:00, weekly on Sunday at 03:00 (server time). */
const PRESETS: Record<'daily' | 'weekly', string> = {
	daily: '0 3 * * *',
	weekly: '0 3 * * 0'
};

/** The cron pattern a schedule stands for, or null when off or invalid. */
export function schedulePattern(schedule: string, cron: string | null): string | null {
	if (schedule === 'daily' || schedule === 'weekly') return PRESETS[schedule];
	if (schedule === 'cron' && cron && isValidCron(cron)) return cron.trim();
	return null;
}

export function isValidCron(expression: string): boolean {
	try {
		const job = new Cron(expression.trim(), { paused: true });
		const ok = job.nextRun() !== null;
		job.stop();
		return ok;
	} catch {
		return false;
	}
}

/** True when `pattern` has an occurrence in (since, now]. */
export function isDue(pattern: string, since: Date, now: Date): boolean {
	const job = new Cron(pattern, { paused: true });
	try {
		const next = job.nextRun(since);
		return next !== null && next.getTime() <= now.getTime();
	} finally {
		job.stop();
	}
}
