// Security headers on every response the app renders (static assets under /_app are served
// before the hooks run, with their own caching). The Content-Security-Policy itself comes from
// Kit's `csp` option in svelte.config.js, which puts a nonce on Kit's own inline script; here
// its form-action directive is widened, on the three pages that need it, to the sites that a
// form post there redirects to.
import { sql } from './db';

/** For HTML that Kit serves without its `csp` option applied (the static error page). */
export const STATIC_PAGE_CSP =
	"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Pages whose forms POST to something that answers with a redirect to another site. */
const OFFSITE_FORM_PAGES = new Set(['/login', '/setup', '/settings/authentication']);

function originOf(url: string | null | undefined): string | null {
	if (!url) return null;
	try {
		const { origin, protocol } = new URL(url);
		return protocol === 'https:' || protocol === 'http:' ? origin : null;
	} catch {
		return null;
	}
}

/**
 * Where a form post can lead off-site: "Sign in with Plex" / "Link Plex account" (POST
 * /api/auth/plex/start) redirects to Plex's auth page, and Verify & Link (POST ?/verifyLink)
 * to the identity provider. Browsers apply form-action to those redirects too.
 */
async function offsiteFormTargets(routeId: string): Promise<string[]> {
	const targets = [originOf(process.env.PLEX_AUTH_URL?.trim() || 'https://app.plex.tv/auth')];
	if (routeId === '/settings/authentication') {
		const [row] = await sql<{ oidcIssuer: string | null }[]>`
			select "oidcIssuer" from "AppSettings" where id = 1
		`;
		targets.push(originOf(row?.oidcIssuer));
	}
	return targets.filter((t): t is string => t !== null);
}

/**
 * `providerLogout`: the issuer a sign-out form on this page may be redirected to (RP-initiated
 * logout, see rp-logout.ts); the sign-out form is on every signed-in page.
 */
export async function setSecurityHeaders(
	headers: Headers,
	routeId: string | null,
	signedIn: boolean,
	providerLogout: string | null = null
) {
	headers.set('x-content-type-options', 'nosniff');
	headers.set('referrer-policy', 'same-origin');
	// Pages show account data (the signed-in user, or the login and setup forms): never stored
	// by the browser or a proxy. Endpoints that chose their own caching keep it.
	const type = headers.get('content-type') ?? '';
	if (!headers.has('cache-control') || signedIn || type.startsWith('text/html')) {
		headers.set('cache-control', 'no-store');
	}
	// An HTML answer Kit made without its CSP (the static error.html, for an error() thrown in an
	// endpoint and shown to a browser): the strictest policy that page works with (it has an
	// inline style and no script).
	if (type.startsWith('text/html') && !headers.has('content-security-policy')) {
		headers.set('content-security-policy', STATIC_PAGE_CSP);
	}
	const csp = headers.get('content-security-policy');
	const logoutOrigin = signedIn ? originOf(providerLogout) : null;
	if (csp && ((routeId && OFFSITE_FORM_PAGES.has(routeId)) || logoutOrigin)) {
		const extra =
			routeId && OFFSITE_FORM_PAGES.has(routeId) ? await offsiteFormTargets(routeId) : [];
		if (logoutOrigin && !extra.includes(logoutOrigin)) extra.push(logoutOrigin);
		if (extra.length) {
			headers.set(
				'content-security-policy',
				csp.replace(/form-action ([^;]*)/, (_, list) => `form-action ${list} ${extra.join(' ')}`)
			);
		}
	}
}
