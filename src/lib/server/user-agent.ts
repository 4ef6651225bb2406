// "Firefox 133 on Linux": a User-Agent header as a person reads it, for the sessions list and
// the sign-in history. Parsing is bowser's (MIT); a header it cannot place reads as unknown.
import Bowser from 'bowser';

export type Device = { browser: string; system: string };

const UNKNOWN = 'Unknown';

/** The major version only: "133.0.6943.53" says no more to a person than "133". */
function major(version: string | undefined) {
	return version?.split('.')[0] ?? '';
}

export function describeUserAgent(userAgent: string | null | undefined): Device {
	if (!userAgent?.trim()) return { browser: UNKNOWN, system: UNKNOWN };
	let browser = '';
	let system = '';
	try {
		const parser = Bowser.getParser(userAgent);
		const b = parser.getBrowser();
		const os = parser.getOS();
		browser = [b.name, major(b.version)].filter(Boolean).join(' ');
		system = [os.name, os.versionName ?? major(os.version)].filter(Boolean).join(' ');
	} catch {
		// A header bowser chokes on is just an unknown device.
	}
	// Not a browser bowser knows (curl, a script): its first product token says what it was.
	browser ||= /^[\w.-]{1,40}(\/[\w.-]{1,20})?/.exec(userAgent.trim())?.[0] ?? '';
	return { browser: browser || UNKNOWN, system: system || UNKNOWN };
}

/** One line for tables and CSV: "Chrome 156 on Linux". */
export function deviceLine(userAgent: string | null | undefined): string {
	const { browser, system } = describeUserAgent(userAgent);
	if (browser === UNKNOWN && system === UNKNOWN) return 'Unknown browser';
	return `${browser} on ${system}`;
}
