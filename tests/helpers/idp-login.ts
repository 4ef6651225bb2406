// Walks oidc-provider's own login and consent pages as a browser would (tests/helpers/idp.js
// accepts any password), so that an integration test can sign in without a real browser.

/**
 * Follows the provider at `issuer` from the authorization URL, signing in as `login` and
 * consenting, until it sends the browser back to the app; returns that callback URL.
 */
export async function throughProvider(issuer: string, authorizationUrl: string, login: string) {
	const jar = new Map<string, string>();
	let url = authorizationUrl;
	for (let step = 0; step < 12; step++) {
		if (!url.startsWith(issuer)) return url;
		const interaction = new URL(url).pathname.match(/^\/interaction\/([^/]+)$/);
		const headers: Record<string, string> = {
			cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
		};
		let res: Response;
		if (interaction) {
			const page = await fetch(url, { headers, redirect: 'manual' });
			const html = await page.text();
			const form: Record<string, string> = html.includes('name="login"')
				? { prompt: 'login', login, password: 'any' }
				: { prompt: 'consent' };
			res = await fetch(url, {
				method: 'POST',
				headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams(form),
				redirect: 'manual'
			});
		} else {
			res = await fetch(url, { headers, redirect: 'manual' });
		}
		for (const line of res.headers.getSetCookie()) {
			const [pair] = line.split(';');
			const eq = pair.indexOf('=');
			jar.set(pair.slice(0, eq), pair.slice(eq + 1));
		}
		const location = res.headers.get('location');
		if (!location) throw new Error(`the provider stopped at ${url} with ${res.status}`);
		url = new URL(location, url).toString();
	}
	throw new Error('too many steps at the provider');
}
