// Plain HTML answers for when the app cannot render its own pages (the database is down).
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
