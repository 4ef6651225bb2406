// Plain HTML answers for when the app cannot render its own pages (the database is down), or
// must answer before any page runs (a form refused as cross-origin).
export function unavailablePage(): Response {
	const html = `<!doctype html>
<html lang="en" class="dark"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Database unavailable · Librariarr</title>
<meta http-equiv="refresh" content="10">
<style>body{background:#111827;color:#e5e7eb;font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:100vh;margin:0}
main{max-width:32rem;padding:2rem}h1{color:#fbbf24;font-size:1.5rem}</style></head>
<body><main><h1>Librariarr can't reach its database</h1>
<p>The app is running, but PostgreSQL is not answering. This page retries every 10 seconds;
check the database container and the <code>DATABASE_URL</code> setting.</p></main></body></html>`;
	return new Response(html, {
		status: 503,
		headers: {
			'content-type': 'text/html; charset=utf-8',
			'retry-after': '10',
			'cache-control': 'no-store'
		}
	});
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The words of a cross-origin refusal: where the form came from, what this server expects, and
 * what to change. `configured` says whether ORIGIN is set (otherwise the expected address was
 * worked out from the request, and ORIGIN is the way to fix it).
 */
export function crossOriginWords(seen: string | null, expected: string, configured: boolean) {
	const from = seen ? `This form was sent from ${seen}` : 'This form was sent without an Origin';
	const lead = configured
		? `${from}, but ORIGIN is ${expected}: Librariarr accepts forms only from that address.`
		: `${from}, but this server expects forms from ${expected} (ORIGIN is not set, so it goes by the request's own address).`;
	const fix = configured
		? `Open ${expected} and try again${seen ? `, or set ORIGIN=${seen} and restart Librariarr if that is the address you use` : ''}.`
		: `Set ORIGIN to the address in your browser's bar${seen ? ` (ORIGIN=${seen})` : ''} and restart Librariarr; behind a reverse proxy, add it to TRUSTED_PROXIES so its X-Forwarded-* headers count.`;
	return { lead, fix };
}

/** The refusal as a page for a browser without JavaScript (the security headers are added later). */
export function crossOriginPage(words: { lead: string; fix: string }): Response {
	const html = `<!doctype html>
<html lang="en" class="dark"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Form refused · Librariarr</title>
<style>body{background:#111827;color:#e5e7eb;font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:100vh;margin:0}
main{max-width:36rem;padding:2rem;overflow-wrap:anywhere}h1{color:#fbbf24;font-size:1.5rem}</style></head>
<body><main><h1>This form was refused</h1>
<p>${escapeHtml(words.lead)}</p>
<p>${escapeHtml(words.fix)}</p></main></body></html>`;
	return new Response(html, {
		status: 403,
		headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }
	});
}
