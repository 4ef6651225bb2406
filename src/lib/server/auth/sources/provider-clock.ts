// The provider's clock as its HTTP `Date` header tells it, read at discovery and at every token
// request. ID tokens carry iat and exp; when this server's clock is off by more than the
// verification's tolerance, every sign-in fails with a token that looks expired or not yet valid,
// and nothing else points at the clock. So the step-1 report and a failed sign-in say it in words
// once the offset passes CLOCK_LIMIT_S.
//
// One value is kept (the last measurement, with when and from where): bounded, and enough for the
// report right after its own fetch, a failure right after its own token request, and the
// diagnostics bundle. `Date` has one-second resolution and the answer takes time to arrive, so a
// few seconds of offset is noise; 30 s is not.

/** Above this many seconds of offset, the reports say so. */
export const CLOCK_LIMIT_S = 30;

export type ClockReading = { seconds: number; at: number; from: string };

let last: ClockReading | null = null;

/** The provider's time minus ours, in whole seconds, or null when `Date` is missing or unreadable. */
export function offsetFromDate(header: string | null, now = Date.now()): number | null {
	if (!header) return null;
	const theirs = Date.parse(header);
	if (!Number.isFinite(theirs)) return null;
	return Math.round((theirs - now) / 1000);
}

/** Records the offset an answer's `Date` header shows (`from`: the URL's origin, for the bundle). */
export function noteProviderDate(header: string | null, url: string, now = Date.now()) {
	const seconds = offsetFromDate(header, now);
	if (seconds === null) return;
	let from = url;
	try {
		from = new URL(url).origin;
	} catch {
		// keep what was given
	}
	last = { seconds, at: now, from };
}

/** The last reading, or null when no provider answered with a readable Date yet. */
export function lastClockReading(): ClockReading | null {
	return last;
}

/** "this server's clock differs from the provider's by N s", when it does by more than the limit. */
export function clockWords(seconds: number | null): string | null {
	if (seconds === null || Math.abs(seconds) <= CLOCK_LIMIT_S) return null;
	const way = seconds > 0 ? 'behind' : 'ahead of';
	return `this server's clock differs from the provider's by ${Math.abs(seconds)} s (it is ${way} the provider's): set it right (NTP) or ID tokens look expired or not yet valid`;
}

/** The words for a reading taken since `since` (this request's own fetch), or null. */
export function clockWordsSince(since: number): string | null {
	return last && last.at >= since ? clockWords(last.seconds) : null;
}
