// Plex as a way in: whether the login page offers it, and linking/unlinking accounts.
import { seal } from './crypto';
import { sql } from './db';
import { loadRuleInputs, offered } from './rule/inputs';
import { FIRST_USER_LOCK } from './users';

/** Whether the login page at `rpId` offers the Plex button (the rule decides: rule/ways-in.ts). */
export async function plexLoginOffered(rpId: string): Promise<boolean> {
	return offered(await loadRuleInputs(sql, { rpId })).plex;
}

/** A plex.tv account as the Plex source reads it (auth/sources/plex.ts). */
export type PlexAccount = { id: string; username: string; email: string | null };

export async function findUserByPlexId(plexId: string) {
	const [user] = await sql<{ id: number }[]>`select id from "User" where "plexId" = ${plexId}`;
	return user ?? null;
}

/** Keeps the latest token and username for a linked account (sealed at rest). */
export async function refreshPlexAccount(userId: number, account: PlexAccount, token: string) {
	await sql`
		update "User" set "plexUsername" = ${account.username}, "plexToken" = ${seal(token)},
			email = coalesce(email, ${account.email}), "updatedAt" = now()
		where id = ${userId}
	`;
}

export class PlexLinkConflict extends Error {}

export async function linkPlex(userId: number, account: PlexAccount, token: string) {
	try {
		await sql`
			update "User" set "plexId" = ${account.id}, "plexUsername" = ${account.username},
				"plexToken" = ${seal(token)}, "updatedAt" = now()
			where id = ${userId}
		`;
	} catch (error) {
		if ((error as { code?: string }).code === '23505') throw new PlexLinkConflict();
		throw error;
	}
}

/** First-run setup through Plex: the admin is the Plex account; local login starts disabled. */
export async function createFirstUserFromPlex(
	account: PlexAccount,
	token: string
): Promise<{ id: number } | null> {
	return sql.begin(async (tx) => {
		await tx`select pg_advisory_xact_lock(${FIRST_USER_LOCK})`;
		const [existing] = await tx`select 1 from "User" limit 1`;
		if (existing) return null;
		const [user] = await tx<{ id: number }[]>`
			insert into "User" (username, email, "plexId", "plexUsername", "plexToken")
			values (${account.username}, ${account.email}, ${account.id}, ${account.username}, ${seal(token)})
			returning id
		`;
		await tx`update "AppSettings" set "plexLoginEnabled" = true, "localAuthEnabled" = false, "updatedAt" = now() where id = 1`;
		return user;
	});
}
