// Sign-in throttling, counted in PostgreSQL so that it holds across restarts and across app
// instances. Each failure is a row under two keys, the client address and the username; once
// either key has MAX_FAILURES rows inside the window, further attempts are refused until the
// oldest of them leaves the window. A successful sign-in clears both keys.
import { sql } from '../db';

export const MAX_FAILURES = 10;
export const WINDOW_MS = 15 * 60 * 1000;

export function throttleKeys(ip: string, username: string): string[] {
	return [`ip:${ip}`, `user:${username.trim().toLowerCase()}`];
}

/** Seconds until another attempt is allowed, or 0 when one is allowed now. */
export async function retryAfterSeconds(keys: string[]): Promise<number> {
	const windowStart = new Date(Date.now() - WINDOW_MS);
	const rows = await sql<{ key: string; count: number; oldest: Date }[]>`
		select key, count(*)::int as count,
			(array_agg("failedAt" order by "failedAt" desc))[${MAX_FAILURES}] as oldest
		from "LoginFailure"
		where key in ${sql(keys)} and "failedAt" > ${windowStart}
		group by key
	`;
	let wait = 0;
	for (const row of rows) {
		if (row.count < MAX_FAILURES) continue;
		// The attempt that made the count reach the limit leaves the window at oldest + WINDOW.
		const ms = row.oldest.getTime() + WINDOW_MS - Date.now();
		wait = Math.max(wait, Math.ceil(ms / 1000));
	}
	return Math.max(wait, 0);
}

export async function recordFailure(keys: string[]) {
	await sql.begin(async (tx) => {
		await tx`insert into "LoginFailure" (key) select unnest(${keys}::text[])`;
		// Housekeeping while we are here: rows outside the window no longer count.
		await tx`delete from "LoginFailure" where "failedAt" < ${new Date(Date.now() - WINDOW_MS)}`;
	});
}

export async function clearFailures(keys: string[]) {
	await sql`delete from "LoginFailure" where key in ${sql(keys)}`;
}
