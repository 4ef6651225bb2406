// Secrets at rest (OIDC client secret, Plex token, backup passphrase) are sealed with
// AES-256-GCM. The key comes from SECRET_KEY (any string; stretched with scrypt), or the file
// SECRET_KEY_FILE names, or, failing those, from 32 random bytes generated once into CONFIG_DIR/secret.key with mode 0600.
// A value that no longer opens (the key was lost or changed) reads as "not set", never a crash:
// the admin sees the field as empty and enters it again. (The recovery script does not load this
// module: it never needs a secret, only to clear one.)
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { configDir, secretValue } from './plain/env.js';

const PREFIX = 'v1';

let cachedKey: Buffer | null = null;

export function loadKey(env: NodeJS.ProcessEnv = process.env): Buffer {
	// SECRET_KEY, or the file SECRET_KEY_FILE names (never both); one that cannot be read, or is
	// empty, stops the start (instance.ts says so in one line).
	const given = secretValue(env, 'SECRET_KEY');
	if (given.problem) throw new Error(given.problem);
	const secret = given.value?.trim();
	if (secret) return scryptSync(secret, 'librariarr:secret-key:v1', 32);
	const dir = configDir(env);
	const file = path.join(dir, 'secret.key');
	try {
		const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
		if (key.length === 32) return key;
		throw new Error(`${file} does not hold a 32-byte key`);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}
	fs.mkdirSync(dir, { recursive: true });
	const key = randomBytes(32);
	fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
	return key;
}

function key() {
	return (cachedKey ??= loadKey());
}

/**
 * A 32-byte key for one purpose (e.g. signing known-device cookies), derived from the instance
 * key with HKDF-SHA256, so that no two uses share key material.
 */
export function derivedKey(label: string, k: Buffer = key()): Buffer {
	return Buffer.from(hkdfSync('sha256', k, Buffer.alloc(0), `librariarr:${label}`, 32));
}

export function seal(plaintext: string, k: Buffer = key()): string {
	const iv = randomBytes(12);
	const cipher = createCipheriv('aes-256-gcm', k, iv);
	const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
	return [
		PREFIX,
		iv.toString('base64'),
		cipher.getAuthTag().toString('base64'),
		body.toString('base64')
	].join(':');
}

/** The plaintext, or null when there is none or it no longer opens. */
export function open(sealed: string | null | undefined, k?: Buffer): string | null {
	if (!sealed) return null;
	const parts = sealed.split(':');
	if (parts.length !== 4 || parts[0] !== PREFIX) return null;
	try {
		const decipher = createDecipheriv('aes-256-gcm', k ?? key(), Buffer.from(parts[1], 'base64'));
		decipher.setAuthTag(Buffer.from(parts[2], 'base64'));
		return Buffer.concat([
			decipher.update(Buffer.from(parts[3], 'base64')),
			decipher.final()
		]).toString('utf8');
	} catch {
		return null;
	}
}
