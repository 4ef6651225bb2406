// Where to send the browser after signing in: only a path on this site. Anything else (an
// absolute URL, `//host`, a backslash trick, a control character) falls back to the home page.
export function safeReturnTo(value: string | null | undefined): string {
	if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\'))
		return '/';
	if (/[\u0000-\u001f\u007f\\]/.test(value)) return '/';
	try {
		const base = 'http://librariarr.invalid';
		const url = new URL(value, base);
		if (url.origin !== base) return '/';
		return url.pathname + url.search + url.hash;
	} catch {
		return '/';
	}
}
