// What an integration test needs: a fresh database, the built server on it, and a small
// browser-like HTTP client (cookie jar, Origin header, no automatic redirects).
import { hash } from '@node-rs/argon2';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createTestDatabase } from './pg.js';
import { startServer } from './server.js';

export type App = Awaited<ReturnType<typeof startApp>>;

export async function freshDatabase() {
	const db = await createTestDatabase(inject('pg'));
	const sql = postgres(db.url, { max: 4, onnotice: () => {} });
	return { ...db, sql };
}

export async function startApp(
	env: Record<string, string | undefined> = {},
	database?: Awaited<ReturnType<typeof freshDatabase>>
) {
	const db = database ?? (await freshDatabase());
	const server = await startServer({ databaseUrl: db.url, env });
	return {
		...server,
		sql: db.sql,
		databaseUrl: db.url,
		stop: async () => {
			await server.stop();
			await db.sql.end();
		}
	};
}

export async function insertAdmin(
	sql: postgres.Sql,
	{ username = 'admin', password = 'correct horse battery', displayName = 'Ada Admin' } = {}
) {
	const passwordHash = await hash(password, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
	const [user] = await sql<{ id: number }[]>`
		insert into "User" (username, "localUsername", "passwordHash")
		values (${displayName}, ${username}, ${passwordHash}) returning id
	`;
	return user.id;
}

type RequestOptions = { headers?: Record<string, string>; origin?: string | null };

/** A cookie-keeping client that behaves like a browser posting a native form. */
export function browser(baseUrl: string) {
	const jar = new Map<string, string>();

	function remember(res: Response) {
		for (const line of res.headers.getSetCookie()) {
			const [pair, ...attrs] = line.split(';');
			const eq = pair.indexOf('=');
			const name = pair.slice(0, eq).trim();
			const value = pair.slice(eq + 1).trim();
			const expired = attrs.some(
				(a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a)
			);
			if (expired || value === '') jar.delete(name);
			else jar.set(name, value);
		}
	}

	function cookieHeader() {
		return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
	}

	async function request(
		method: string,
		path: string,
		body?: URLSearchParams,
		options: RequestOptions = {}
	) {
		const headers: Record<string, string> = { accept: 'text/html', ...options.headers };
		if (jar.size) headers.cookie = cookieHeader();
		if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
		const origin = options.origin === undefined ? baseUrl : options.origin;
		if (method !== 'GET' && origin !== null) headers.origin = origin;
		const res = await fetch(baseUrl + path, { method, headers, body, redirect: 'manual' });
		remember(res);
		return res;
	}

	return {
		jar,
		get: (path: string, options?: RequestOptions) => request('GET', path, undefined, options),
		post: (path: string, form: Record<string, string>, options?: RequestOptions) =>
			request('POST', path, new URLSearchParams(form), options),
		async signIn(username = 'admin', password = 'correct horse battery') {
			return request('POST', '/login', new URLSearchParams({ username, password }));
		}
	};
}

/**
 * A browser signed in with a password, whose posts carry `origin` (the public origin, where the
 * app runs with ORIGIN); the test stops unless the sign-in redirects.
 */
export async function signedIn(
	baseUrl: string,
	{ origin, username = 'admin', password = 'correct horse battery' }: SignInAs = {}
) {
	const b = browser(baseUrl);
	const res = await b.post('/login', { username, password }, { origin });
	if (res.status !== 303) throw new Error(`signing in as ${username} answered ${res.status}`);
	return b;
}

type SignInAs = { origin?: string; username?: string; password?: string };
