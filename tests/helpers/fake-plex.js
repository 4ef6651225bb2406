// A local stand-in for the parts of plex.tv that Librariarr uses (the one service the tests cannot
// run for real): the PIN API, the account API, and an auth page that approves a PIN and sends
// the browser on to forwardUrl. Tests steer it: approve PINs, pick failure modes, read what it saw.
import http from 'node:http';
import { freePort } from './pg.js';

export const ACCOUNTS = {
	alice: { id: 1001, uuid: 'a1', username: 'alice', title: 'Alice', email: 'alice@plex.test' },
	bob: { id: 1002, uuid: 'b2', username: 'bob', title: 'Bob', email: 'bob@plex.test' }
};

export async function startFakePlex() {
	const port = await freePort();
	const url = `http://127.0.0.1:${port}`;
	/** @type {Map<string, { id: number, code: string, authToken: string | null }>} */
	const pins = new Map();
	/** @type {Map<string, keyof typeof ACCOUNTS>} */
	const tokens = new Map();
	/** @type {{ method: string, path: string, headers: http.IncomingHttpHeaders }[]} */
	const requests = [];
	const state = {
		/** @type {'ok' | 'error' | 'slow' | 'malformed'} */ mode: 'ok',
		nextPin: 5000,
		/** How long 'slow' holds each answer (then answers normally). */
		slowMs: 3000
	};

	/** Approves the PIN with this code as `user`, as if they signed in at plex.tv. */
	function approve(/** @type {string} */ code, /** @type {keyof typeof ACCOUNTS} */ user) {
		const pin = [...pins.values()].find((p) => p.code === code);
		if (!pin) throw new Error(`no PIN with code ${code}`);
		const token = `token-${user}-${pin.id}`;
		pin.authToken = token;
		tokens.set(token, user);
		return token;
	}

	const send = (
		/** @type {http.ServerResponse} */ res,
		/** @type {number} */ status,
		/** @type {unknown} */ body
	) => {
		res.writeHead(status, { 'content-type': 'application/json' });
		res.end(JSON.stringify(body));
	};

	const server = http.createServer(async (req, res) => {
		const u = new URL(req.url ?? '/', url);
		requests.push({
			method: req.method ?? 'GET',
			path: u.pathname + u.search,
			headers: req.headers
		});
		if (u.pathname.startsWith('/api/')) {
			if (state.mode === 'slow') await new Promise((r) => setTimeout(r, state.slowMs).unref());
			if (state.mode === 'error') return send(res, 500, { error: 'internal' });
			if (state.mode === 'malformed') {
				res.writeHead(200, { 'content-type': 'application/json' });
				return res.end('{"id": 12, "code": ');
			}
		}
		if (req.method === 'POST' && u.pathname === '/api/v2/pins') {
			const id = state.nextPin++;
			const pin = {
				id,
				code: `code${id}${Math.random().toString(36).slice(2, 8)}`,
				authToken: null
			};
			pins.set(String(id), pin);
			return send(res, 201, { ...pin, strong: u.searchParams.get('strong') === 'true' });
		}
		const pinMatch = /^\/api\/v2\/pins\/(\d+)$/.exec(u.pathname);
		if (req.method === 'GET' && pinMatch) {
			const pin = pins.get(pinMatch[1]);
			return pin ? send(res, 200, pin) : send(res, 404, { error: 'not found' });
		}
		if (req.method === 'GET' && u.pathname === '/api/v2/user') {
			const user = tokens.get(String(req.headers['x-plex-token'] ?? ''));
			return user ? send(res, 200, ACCOUNTS[user]) : send(res, 401, { error: 'unauthorized' });
		}
		if (req.method === 'GET' && u.pathname === '/auth') {
			// The real page is an app that reads its parameters from the URL fragment.
			res.writeHead(200, { 'content-type': 'text/html' });
			return res.end(`<!doctype html><html lang="en"><head><title>Fake Plex sign-in</title></head><body>
<h1>Fake plex.tv</h1><noscript><p>Approve this PIN from the test.</p></noscript>
<form method="post" action="/auth/approve" id="f"><input type="hidden" name="code"><input type="hidden" name="forwardUrl">
<label>Account <select name="user"><option>alice</option><option>bob</option></select></label>
<button type="submit">Approve</button></form>
<script>const p=new URLSearchParams(location.hash.slice(2));f.code.value=p.get('code')||'';f.forwardUrl.value=p.get('forwardUrl')||'';</script>
</body></html>`);
		}
		if (req.method === 'POST' && u.pathname === '/auth/approve') {
			let body = '';
			for await (const chunk of req) body += chunk;
			const form = new URLSearchParams(body);
			approve(
				form.get('code') ?? '',
				/** @type {keyof typeof ACCOUNTS} */ (form.get('user') ?? 'alice')
			);
			res.writeHead(303, { location: form.get('forwardUrl') ?? '/' });
			return res.end();
		}
		send(res, 404, { error: 'not found' });
	});
	await new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(undefined)));

	return {
		url,
		authUrl: `${url}/auth`,
		state,
		requests,
		pins,
		approve,
		/** Parses the fragment of the auth URL the app redirected to. */
		parseAuthLocation(/** @type {string} */ location) {
			const hash = new URL(location).hash;
			return new URLSearchParams(hash.startsWith('#?') ? hash.slice(2) : hash.slice(1));
		},
		stop: () => new Promise((resolve) => server.close(() => resolve(undefined)))
	};
}
