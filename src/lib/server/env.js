// Environment parsing shared by the app and by the plain-Node scripts (no $env, no $lib here).
import path from 'node:path';

const TRUTHY = new Set(['true', '1', 'yes']);

/**
 * The product's one rule for boolean switches: `true`, `1` or `yes`, any case, surrounding
 * spaces ignored. Anything else (including unset) is off.
 * @param {string | undefined} value
 */
export function isTruthy(value) {
	return value !== undefined && TRUTHY.has(value.trim().toLowerCase());
}

/** @param {NodeJS.ProcessEnv} [env] */
export function configDir(env = process.env) {
	return path.resolve(env.CONFIG_DIR?.trim() || './data');
}

/** Where the embedded PostgreSQL listens when DATABASE_URL is unset. */
/** @param {NodeJS.ProcessEnv} [env] */
export function embeddedPort(env = process.env) {
	const port = Number(env.EMBEDDED_PG_PORT ?? 54329);
	if (!Number.isInteger(port) || port < 1 || port > 65535) {
		throw new Error(`EMBEDDED_PG_PORT must be a TCP port number, got "${env.EMBEDDED_PG_PORT}"`);
	}
	return port;
}
