// Where to send the browser after signing in: only a path on this site.
//
// The decision is taken on the *normalised* result, the string that goes into the Location
// header, because that is what the browser reads. Checking how the raw value starts is not
// enough: dot segments (`/./`, `/../`, `/a/../`, and their percent-encoded forms) collapse while
// the URL is normalised, and `/.//evil.example` becomes `//evil.example`, which a browser reads as
// another site. So: the raw value must be a path (one leading `/`, no backslash, no control
// character), and the normalised result must again be exactly that and resolve to this origin.
// Anything else falls back to the home page.
//
// Every place that takes a return path (login page load and action, forward auth, OIDC and Plex
// start and callback) calls this, both when the value comes in and when it is used.

const BASE = 'http://librariarr.invalid';
/** Longer return paths are not something this app ever makes; refuse them rather than store them. */
export const MAX_RETURN_TO_LENGTH = 2048;

// C0 controls, DEL and C1 controls, and the backslash that some browsers treat as a slash.
// (The URL parser silently drops tabs and newlines, so they must be refused before parsing.)
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\]/;

function isPlainPath(path: string): boolean {
	return path.startsWith('/') && !path.startsWith('//') && !FORBIDDEN.test(path);
}

export function safeReturnTo(value: string | null | undefined): string {
	if (typeof value !== 'string' || value.length > MAX_RETURN_TO_LENGTH) return '/';
	if (!isPlainPath(value)) return '/';
	let url: URL;
	try {
		url = new URL(value, BASE);
	} catch {
		return '/';
	}
	if (url.origin !== BASE) return '/';
	const result = url.pathname + url.search + url.hash;
	if (!isPlainPath(result) || result.length > MAX_RETURN_TO_LENGTH) return '/';
	// Read the result once more the way the browser will, relative to this site.
	try {
		if (new URL(result, BASE).origin !== BASE) return '/';
	} catch {
		return '/';
	}
	return result;
}
