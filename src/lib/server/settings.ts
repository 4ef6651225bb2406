// The single "AppSettings" row. (Who can use which way in is the rule's: rule/inputs.ts.)
import { sql } from './db';

export type AppSettings = {
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
			"oidcClientId", "ssoConfigVersion", "ssoButtonText", "passkeyLoginEnabled"
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
