// Everything the app reads from its environment. Read on first use at run time — never while
// `vite build` imports the server modules — and checked as a whole by preflight.js before the
// app starts, so a bad value never reaches here in a running server.
import { readEnvironment, type Settings } from './plain/env.js';

let settings: Settings | null = null;

function current(): Settings {
	if (settings) return settings;
	const read = readEnvironment(process.env);
	if (!read.settings) throw new Error(`Invalid configuration: ${read.problems.join('; ')}`);
	return (settings = read.settings);
}

/** The environment's warnings (a switch set to a word that is not understood), one line each. */
export function configWarnings(): string[] {
	return readEnvironment(process.env).warnings;
}

export const config: Readonly<Settings> = {
	get databaseUrl() {
		return current().databaseUrl;
	},
	get configDir() {
		return current().configDir;
	},
	get origin() {
		return current().origin;
	},
	get trustedProxies() {
		return current().trustedProxies;
	},
	get cookieSecure() {
		return current().cookieSecure;
	},
	get ssoDisableOverride() {
		return current().ssoDisableOverride;
	},
	get logLevel() {
		return current().logLevel;
	},
	get port() {
		return current().port;
	},
	get host() {
		return current().host;
	},
	get metricsToken() {
		return current().metricsToken;
	}
};
