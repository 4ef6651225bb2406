// Password hashing: argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane). A hash made with
// other parameters is re-made on the next successful sign-in.
import { hash, verify } from '@node-rs/argon2';

export const ARGON2_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
const CURRENT_PARAMS = `m=${ARGON2_OPTIONS.memoryCost},t=${ARGON2_OPTIONS.timeCost},p=${ARGON2_OPTIONS.parallelism}`;

export function hashPassword(password: string): Promise<string> {
	return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
	try {
		return await verify(passwordHash, password);
	} catch {
		return false; // a corrupt stored hash is a failed sign-in, not a crash
	}
}

export function needsRehash(passwordHash: string): boolean {
	return !passwordHash.startsWith('$argon2id$') || !passwordHash.includes(`$${CURRENT_PARAMS}$`);
}

let dummyHash: Promise<string> | null = null;

/**
 * Spends the same time as a real verification, for sign-ins naming an unknown user or a user
 * without a password, so response times do not reveal which usernames exist.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
	dummyHash ??= hashPassword('librariarr-timing-equaliser');
	await verifyPassword(await dummyHash, password);
	return false;
}
