// Dates are shown one way everywhere: `2026-12-01 19:40`, year first, 24-hour clock. The server
// renders them in UTC and says so; in the browser, DateTime.svelte re-renders them in the
// viewer's own time zone.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string | undefined) {
	const key = timeZone ?? '';
	let f = formatters.get(key);
	if (!f) {
		f = new Intl.DateTimeFormat('en-GB', {
			timeZone,
			year: 'numeric',
			month: '2-digit',
			day: '2-digit',
			hour: '2-digit',
			minute: '2-digit',
			hourCycle: 'h23'
		});
		formatters.set(key, f);
	}
	return f;
}

/**
 * `YYYY-MM-DD HH:mm` of `value` in `timeZone` (an IANA name such as `UTC` or `Europe/Berlin`;
 * the runtime's own zone when left out).
 */
export function formatDateTime(value: Date | string, timeZone?: string): string {
	const date = typeof value === 'string' ? new Date(value) : value;
	const parts: Record<string, string> = {};
	for (const { type, value: v } of formatter(timeZone).formatToParts(date)) parts[type] = v;
	return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** What the server shows (and a browser without JavaScript keeps): UTC, and it says so. */
export function formatDateTimeUtc(value: Date | string): string {
	return `${formatDateTime(value, 'UTC')} UTC`;
}
