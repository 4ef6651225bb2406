// The single "AppSettings" row.
import { sql } from './db';

export type AppSettings = {
	/** Whether any user has a local password (so the local form can be of use). */
	anyPassword: boolean;
	/** Whether any user has a Plex account linked (so the Plex button can be of use). */
	anyPlex: boolean;
	/** Whether any user has a passkey (so the passkey button can be of use). */
	anyPasskey: boolean;
	passkeyLoginEnabled: boolean;
	localAuthEnabled: boolean;
	plexLoginEnabled: boolean;
	ssoEnabled: boolean;
	ssoMode: 'OIDC' | 'FORWARD_AUTH';
	oidcIssuer: string | null;
	oidcClientId: string | null;
	ssoConfigVersion: number;
	/** The words on the login page's SSO button. */
	ssoButtonText: string;
};

export async function getSettings(): Promise<AppSettings> {
	const [row] = await sql<AppSettings[]>`
		select "localAuthEnabled", "plexLoginEnabled", "ssoEnabled", "ssoMode", "oidcIssuer",
			"oidcClientId", "ssoConfigVersion", "ssoButtonText", "passkeyLoginEnabled",
			exists (select 1 from "Passkey") as "anyPasskey",
			exists (select 1 from "User" where "passwordHash" is not null) as "anyPassword",
			exists (select 1 from "User" where "plexId" is not null) as "anyPlex"
		from "AppSettings" where id = 1
	`;
	return row;
}

/** How many days audit entries are kept (housekeeping.ts deletes older ones). */
export async function getAuditRetentionDays(): Promise<number> {
	const [row] = await sql<{ auditRetentionDays: number }[]>`
		select "auditRetentionDays" from "AppSettings" where id = 1
	`;
	return row.auditRetentionDays;
}

export async function setAuditRetentionDays(days: number) {
	await sql`
		update "AppSettings" set "auditRetentionDays" = ${days}, "updatedAt" = now() where id = 1
	`;
}
