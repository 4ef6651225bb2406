// This instance among others on the same database: its name (shown next to the backups it
// wrote) and the check that it shares the instance key with them.
//
// Secrets at rest, the known-device cookie and sign-in flows are sealed with the instance key
// (crypto.ts). Instances that each generated their own CONFIG_DIR/secret.key cannot open each
// other's: a saved OIDC client secret, TOTP or a sign-in started on one fails on the next. So the
// first instance to start stores a fingerprint of its key ("InstanceKey", an HMAC made with the
// key, from which the key cannot be recovered), and an instance whose key gives another one
// refuses to start.
import { createHmac } from 'node:crypto';
import os from 'node:os';
import { config } from './config';
import { derivedKey, loadKey } from './crypto';
import { sql } from './db';

/** "host:port": tells instances apart in the backup list (containers differ by host name). */
export function instanceName(): string {
	return `${os.hostname()}:${config.port}`;
}

/** The key's fingerprint: an HMAC of a fixed label under a key derived for this use only. */
export function keyFingerprint(key: Buffer = loadKey()): string {
	return createHmac('sha256', derivedKey('instance-key-fingerprint', key))
		.update('librariarr instance key fingerprint v1')
		.digest('base64url');
}

export const KEY_MISMATCH =
	'the instance key is not the one this database was first used with (it keeps a fingerprint of that key). Several instances on one database must share it: give every instance the same SECRET_KEY (or SECRET_KEY_FILE); without one, each CONFIG_DIR generates its own secret.key. If the old key is lost for good, run DELETE FROM "InstanceKey" in the database and start again (secrets sealed with the old key must then be entered again). Example: SECRET_KEY=<the same long random string on every instance>';

/**
 * Stores the key's fingerprint on the first start, or compares it with the stored one.
 * Returns null when they match, else the one line to stop the start with.
 */
export async function checkInstanceKey(db: typeof sql = sql): Promise<string | null> {
	let mine: string;
	try {
		mine = keyFingerprint();
	} catch (error) {
		// SECRET_KEY_FILE unreadable, or CONFIG_DIR/secret.key damaged: the reason, in one line.
		return error instanceof Error ? error.message : String(error);
	}
	const [row] = await db<{ fingerprint: string }[]>`
		with added as (
			insert into "InstanceKey" (id, fingerprint) values (1, ${mine})
			on conflict (id) do nothing
			returning fingerprint
		)
		select fingerprint from added
		union all
		select fingerprint from "InstanceKey" where id = 1
		limit 1
	`;
	return row && row.fingerprint !== mine ? KEY_MISMATCH : null;
}
