// Environment parsing shared by the app and by the plain-Node scripts (no $env, no $lib here).
// Everything is read when the server starts, never while `vite build` runs: `readEnvironment`
// checks every variable at once and says, per bad one, its name, the value and an example.
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import proxyaddr from 'proxy-addr';

const TRUTHY = new Set(['true', '1', 'yes']);
const FALSY = new Set(['', 'false', '0', 'no']);

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

/** The shortest METRICS_TOKEN accepted. */
export const METRICS_TOKEN_MIN = 24;

export const LOG_LEVELS = /** @type {const} */ (['debug', 'info', 'warn', 'error']);

/**
 * @typedef {{
 *   databaseUrl: string | null,
 *   configDir: string,
 *   origin: string | null,
 *   trustedProxies: string[],
 *   cookieSecure: boolean,
 *   ssoDisableOverride: boolean,
 *   logLevel: (typeof LOG_LEVELS)[number],
 *   port: number,
 *   host: string,
 *   metricsToken: string | null
 * }} Settings
 */

/** Thrown by a check: the message completes `NAME="value" …`. */
class Bad extends Error {
	/** @param {string} message @param {string} example */
	constructor(message, example) {
		super(message);
		this.example = example;
	}
}

/** @param {string} value */
function tcpPort(value) {
	const port = Number(value.trim());
	if (!/^\d+$/.test(value.trim()) || port < 1 || port > 65535) {
		throw new Bad('is not a TCP port number (1–65535)', '3000');
	}
	return port;
}

/** @param {string} value @param {string} example */
function httpUrl(value, example) {
	let url;
	try {
		url = new URL(value.trim());
	} catch {
		throw new Bad('is not a URL', example);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new Bad('must start with http:// or https://', example);
	}
	return url;
}

/** The readers, one per variable; each gets the raw value (undefined when unset). */
const READERS = {
	/** @param {string | undefined} value */
	DATABASE_URL(value) {
		if (!value?.trim()) return null;
		const example = 'postgres://librariarr:password@db:5432/librariarr';
		let url;
		try {
			url = new URL(value.trim());
		} catch {
			throw new Bad('is not a URL', example);
		}
		if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
			throw new Bad('must start with postgres:// or postgresql://', example);
		}
		return value.trim();
	},
	/** @param {string | undefined} value */
	EMBEDDED_PG_PORT(value) {
		if (value === undefined) return 54329;
		try {
			return tcpPort(value);
		} catch {
			throw new Bad('is not a TCP port number (1–65535)', '54329');
		}
	},
	/** @param {string | undefined} value */
	CONFIG_DIR(value) {
		const dir = path.resolve(value?.trim() || './data');
		let stat;
		try {
			stat = fs.statSync(dir);
		} catch {
			return dir; // created on first use
		}
		if (!stat.isDirectory()) throw new Bad('is a file, not a folder', '/config');
		return dir;
	},
	/** @param {string | undefined} value */
	PORT(value) {
		return value === undefined ? 3000 : tcpPort(value);
	},
	/** @param {string | undefined} value */
	HOST(value) {
		if (value === undefined) return '0.0.0.0';
		const host = value.trim();
		if (
			!isIP(host) &&
			!/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(host)
		) {
			throw new Bad('is not an IP address or host name', '0.0.0.0');
		}
		return host;
	},
	/** @param {string | undefined} value */
	ORIGIN(value) {
		if (value === undefined) return null;
		const example = 'https://librariarr.example.com';
		if (!value.trim()) throw new Bad('is empty (unset it, or give the public URL)', example);
		const url = httpUrl(value, example);
		if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
			throw new Bad('must be only scheme, host and port, with no path', example);
		}
		return url.origin;
	},
	/** @param {string | undefined} value */
	TRUSTED_PROXIES(value) {
		const list = (value ?? '')
			.split(/[\s,]+/)
			.map((part) => part.trim())
			.filter(Boolean);
		for (const entry of list) {
			try {
				proxyaddr.compile([entry]);
			} catch {
				const what = 'is not an IP address or CIDR range';
				throw new Bad(
					list.length === 1 ? what : `has "${entry}", which ${what}`,
					'172.18.0.0/16,10.0.0.2'
				);
			}
		}
		return list;
	},
	/** @param {string | undefined} value */
	COOKIE_SECURE(value) {
		return isTruthy(value);
	},
	/** @param {string | undefined} value */
	SSO_DISABLE_OVERRIDE(value) {
		return isTruthy(value);
	},
	/** @param {string | undefined} value */
	LOG_LEVEL(value) {
		const level = value?.trim().toLowerCase() || 'info';
		if (!(/** @type {readonly string[]} */ (LOG_LEVELS).includes(level))) {
			throw new Bad(`is not one of ${LOG_LEVELS.join(', ')}`, 'info');
		}
		return /** @type {(typeof LOG_LEVELS)[number]} */ (level);
	},
	/** adapter-node's own variable: a number of bytes with an optional K, M or G. */
	/** @param {string | undefined} value */
	BODY_SIZE_LIMIT(value) {
		if (value !== undefined && !/^(\d+[kmg]?|Infinity)$/i.test(value.trim())) {
			throw new Bad('is not a size such as 512K or 52M', '52M');
		}
		return value;
	},
	/** Turns /metrics (and /healthz?detail=1) on; the scraper sends it as a bearer token. */
	/** @param {string | undefined} value */
	METRICS_TOKEN(value) {
		if (value === undefined || value === '') return null;
		const example = '"$(openssl rand -hex 24)"';
		if (!/^[\x21-\x7e]+$/.test(value)) {
			throw new Bad('may hold only visible ASCII characters, no spaces', example);
		}
		if (value.length < METRICS_TOKEN_MIN) {
			throw new Bad(
				`is shorter than ${METRICS_TOKEN_MIN} characters (anyone who reaches /metrics could guess it)`,
				example
			);
		}
		return value;
	},
	/** @param {string | undefined} value */
	PLEX_API_URL(value) {
		return value?.trim() ? httpUrl(value, 'https://plex.tv').href : null;
	},
	/** @param {string | undefined} value */
	PLEX_AUTH_URL(value) {
		return value?.trim() ? httpUrl(value, 'https://app.plex.tv/auth').href : null;
	}
};

/** Every variable readEnvironment reads (tests/unit/config-documented.test.ts checks the README). */
export const VARIABLES = Object.keys(READERS);

/** The switches: their words, and what happens to any other word (it counts as off). */
const SWITCHES = {
	COOKIE_SECURE: 'the Secure flag is then set only when the public origin is https',
	SSO_DISABLE_OVERRIDE: 'the override is then off'
};

/**
 * A value as it may be printed: quoted, control characters escaped, a URL's password hidden, a
 * secret not shown at all.
 * @param {string} name @param {string} value
 */
function shown(name, value) {
	if (name === 'METRICS_TOKEN') return `(${value.length} characters, not shown)`;
	const text = name === 'DATABASE_URL' ? value.replace(/\/\/[^/@]*@/, '//…@') : value;
	return JSON.stringify(text);
}

/**
 * The variables that hold a secret, and so may come from a file instead: `NAME_FILE` names a file
 * (a Docker, Podman or Kubernetes secret) whose content, trimmed, is the value. SECRET_KEY's file
 * is read where the key is loaded (crypto.ts); here only its clash with SECRET_KEY is checked.
 */
export const FILE_FORMS = /** @type {const} */ (['DATABASE_URL', 'METRICS_TOKEN', 'SECRET_KEY']);

/**
 * A secret's value from the environment or from the file `NAME_FILE` names: `{ value }`, or
 * `{ problem }` (one line that names the variable) when both are set or the file cannot be read.
 * @param {NodeJS.ProcessEnv} env @param {string} name
 * @returns {{ value: string | undefined, problem?: undefined } | { problem: string, value?: undefined }}
 */
export function secretValue(env, name) {
	const direct = env[name];
	const file = env[`${name}_FILE`]?.trim();
	if (!file) return { value: direct };
	if (direct !== undefined && direct.trim() !== '') {
		return {
			problem: `${name} and ${name}_FILE are both set: keep one (${name}_FILE names a file that holds the value, such as a Docker secret).`
		};
	}
	let text;
	try {
		text = fs.readFileSync(file, 'utf8').trim();
	} catch (error) {
		const code = /** @type {NodeJS.ErrnoException} */ (error).code ?? String(error);
		return { problem: `${name}_FILE=${JSON.stringify(file)} cannot be read (${code}).` };
	}
	if (!text) return { problem: `${name}_FILE=${JSON.stringify(file)} is empty.` };
	return { value: text };
}

/**
 * Reads and checks every variable. `problems` are one line each and stop the start;
 * `warnings` are one line each and do not.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ settings: Settings | null, problems: string[], warnings: string[] }}
 */
export function readEnvironment(env = process.env) {
	/** @type {string[]} */
	const problems = [];
	/** @type {string[]} */
	const warnings = [];
	/** @type {Record<string, unknown>} */
	const values = {};
	/** @type {Record<string, string | undefined>} */
	const fromFiles = {};
	for (const name of FILE_FORMS) {
		const secret = secretValue(env, name);
		if (secret.problem) problems.push(secret.problem);
		else fromFiles[name] = secret.value;
	}
	for (const [name, read] of Object.entries(READERS)) {
		const raw = Object.hasOwn(fromFiles, name) ? fromFiles[name] : env[name];
		try {
			values[name] = read(raw);
		} catch (error) {
			if (!(error instanceof Bad)) throw error;
			problems.push(
				`${name}=${shown(name, raw ?? '')} ${error.message}. Example: ${name}=${error.example}`
			);
		}
	}
	for (const [name, effect] of Object.entries(SWITCHES)) {
		const raw = env[name];
		if (
			raw !== undefined &&
			!TRUTHY.has(raw.trim().toLowerCase()) &&
			!FALSY.has(raw.trim().toLowerCase())
		) {
			warnings.push(
				`${name}=${shown(name, raw)} is not understood and counts as off (${effect}). Use true, 1 or yes to turn it on; false, 0 or no to turn it off.`
			);
		}
	}
	if (problems.length > 0) return { settings: null, problems, warnings };
	return {
		settings: {
			databaseUrl: /** @type {string | null} */ (values.DATABASE_URL),
			configDir: /** @type {string} */ (values.CONFIG_DIR),
			origin: /** @type {string | null} */ (values.ORIGIN),
			trustedProxies: /** @type {string[]} */ (values.TRUSTED_PROXIES),
			cookieSecure: /** @type {boolean} */ (values.COOKIE_SECURE),
			ssoDisableOverride: /** @type {boolean} */ (values.SSO_DISABLE_OVERRIDE),
			logLevel: /** @type {Settings['logLevel']} */ (values.LOG_LEVEL),
			port: /** @type {number} */ (values.PORT),
			host: /** @type {string} */ (values.HOST),
			metricsToken: /** @type {string | null} */ (values.METRICS_TOKEN)
		},
		problems,
		warnings
	};
}
