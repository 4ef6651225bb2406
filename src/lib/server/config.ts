// Everything the app reads from its environment, parsed once at start-up.
import proxyaddr from 'proxy-addr';
import { configDir, isTruthy } from './env.js';

function parseOrigin(value: string | undefined): string | null {
	if (!value?.trim()) return null;
	const url = new URL(value.trim()); // a malformed ORIGIN should stop the start-up loudly
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new Error(`ORIGIN must be an http(s) URL, got "${value}"`);
	}
	return url.origin;
}

function parseTrustedProxies(value: string | undefined): string[] {
	const list = (value ?? '')
		.split(/[\s,]+/)
		.map((part) => part.trim())
		.filter(Boolean);
	// proxy-addr validates every entry and throws on anything that is not an address or CIDR.
	proxyaddr.compile(list);
	return list;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

function parseLogLevel(value: string | undefined): (typeof LOG_LEVELS)[number] {
	const level = value?.trim().toLowerCase() || 'info';
	if (!(LOG_LEVELS as readonly string[]).includes(level)) {
		throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
	}
	return level as (typeof LOG_LEVELS)[number];
}

const env = process.env;

export const config = {
	databaseUrl: env.DATABASE_URL?.trim() || null,
	configDir: configDir(env),
	origin: parseOrigin(env.ORIGIN),
	trustedProxies: parseTrustedProxies(env.TRUSTED_PROXIES),
	cookieSecure: isTruthy(env.COOKIE_SECURE),
	ssoDisableOverride: isTruthy(env.SSO_DISABLE_OVERRIDE),
	logLevel: parseLogLevel(env.LOG_LEVEL)
};
