// The single "AppSettings" row.
import { sql } from './db';

export type AppSettings = {
	localAuthEnabled: boolean;
	plexLoginEnabled: boolean;
	ssoEnabled: boolean;
	ssoMode: 'OIDC' | 'FORWARD_AUTH';
	oidcIssuer: string | null;
	oidcClientId: string | null;
	ssoConfigVersion: number;
};

export async function getSettings(): Promise<AppSettings> {
	const [row] = await sql<AppSettings[]>`
		select "localAuthEnabled", "plexLoginEnabled", "ssoEnabled", "ssoMode", "oidcIssuer",
			"oidcClientId", "ssoConfigVersion"
		from "AppSettings" where id = 1
	`;
	return row;
}
