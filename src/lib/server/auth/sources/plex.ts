// Plex sign-in through plex.tv's PIN flow, without popups so that it works without JavaScript.
//
// Model: we create a strong PIN at plex.tv, remember it in a login transaction bound to this
// browser, and send the browser to Plex's auth page with a forwardUrl back to our callback. The
// callback asks plex.tv about *our* PIN (by the id we stored) for the token, then asks who that
// token belongs to. A token is never taken from the browser: only one fetched for a PIN we
// issued, in a transaction this browser started, once, within ten minutes, counts. Every call to
// plex.tv has a deadline and a size cap.
import { sql } from '../../db';
import { fetchJson } from '../../http';
import type { PlexAccount } from '../../plex';

export const PRODUCT = 'Librariarr';
export const VERSION = '0.1.0';
export const CALLBACK_PATH = '/api/auth/plex/callback';
// Every call to plex.tv gives up after this long (PLEX_TIMEOUT_MS exists for the tests' fake).
const TIMEOUT_MS =
	Number(process.env.PLEX_TIMEOUT_MS) > 0 ? Number(process.env.PLEX_TIMEOUT_MS) : 8_000;

const apiBase = () => (process.env.PLEX_API_URL?.trim() || 'https://plex.tv').replace(/\/+$/, '');
const authBase = () => process.env.PLEX_AUTH_URL?.trim() || 'https://app.plex.tv/auth';

export class PlexUnavailable extends Error {}

/** The identifier plex.tv knows this installation by: generated once, kept in "AppSettings". */
export async function clientIdentifier(): Promise<string> {
	const [row] = await sql<{ id: string }[]>`
		update "AppSettings" set "plexClientIdentifier" = coalesce("plexClientIdentifier", ${crypto.randomUUID()})
		where id = 1 returning "plexClientIdentifier" as id
	`;
	return row.id;
}

function plexHeaders(clientId: string, token?: string): Record<string, string> {
	return {
		accept: 'application/json',
		'x-plex-product': PRODUCT,
		'x-plex-version': VERSION,
		'x-plex-client-identifier': clientId,
		...(token ? { 'x-plex-token': token } : {})
	};
}

async function call(path: string, init: RequestInit): Promise<Record<string, unknown>> {
	try {
		const body = await fetchJson(`${apiBase()}${path}`, init, {
			timeoutMs: TIMEOUT_MS,
			maxBytes: 256 * 1024
		});
		if (!body || typeof body !== 'object') throw new Error('not a JSON object');
		return body as Record<string, unknown>;
	} catch (error) {
		throw new PlexUnavailable(`plex.tv ${path.split('?')[0]}: ${(error as Error).message}`);
	}
}

export async function createPin(clientId: string): Promise<{ id: string; code: string }> {
	const pin = await call('/api/v2/pins?strong=true', {
		method: 'POST',
		headers: plexHeaders(clientId)
	});
	const id = pin.id;
	const code = pin.code;
	if ((typeof id !== 'number' && typeof id !== 'string') || typeof code !== 'string' || !code) {
		throw new PlexUnavailable('plex.tv answered the PIN request without an id and code');
	}
	return { id: String(id), code };
}

export function authUrl(clientId: string, code: string, forwardUrl: string): string {
	const params = new URLSearchParams({
		clientID: clientId,
		code,
		forwardUrl,
		'context[device][product]': PRODUCT
	});
	return `${authBase()}#?${params}`;
}

/** The token plex.tv attached to our PIN once the user approved it, or null if not (yet). */
export async function pinToken(clientId: string, pinId: string): Promise<string | null> {
	if (!/^\d{1,20}$/.test(pinId)) throw new PlexUnavailable('stored PIN id is malformed');
	const pin = await call(`/api/v2/pins/${pinId}`, { headers: plexHeaders(clientId) });
	if (String(pin.id) !== pinId) throw new PlexUnavailable('plex.tv answered for another PIN');
	const token = pin.authToken;
	return typeof token === 'string' && token ? token : null;
}

export type { PlexAccount };

export async function plexAccount(clientId: string, token: string): Promise<PlexAccount> {
	const user = await call('/api/v2/user', { headers: plexHeaders(clientId, token) });
	const id = user.id;
	const username = typeof user.username === 'string' && user.username ? user.username : user.title;
	if (
		(typeof id !== 'number' && typeof id !== 'string') ||
		!String(id) ||
		typeof username !== 'string' ||
		!username
	) {
		throw new PlexUnavailable('plex.tv answered without an account id and username');
	}
	return {
		id: String(id).slice(0, 64),
		username: username.slice(0, 100),
		email: typeof user.email === 'string' ? user.email.slice(0, 200) : null
	};
}
