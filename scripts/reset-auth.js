#!/usr/bin/env node
// Librariarr break-glass recovery: inspect and repair the sign-in settings straight in the database,
// for an admin who can no longer get in through the web page.
//
// Deliberately self-contained, because it is meant to be copied into a running container
// (`docker cp reset-auth.js librariarr:/tmp/`) and run from the app's directory (/app there):
//   - plain Node ESM, no build step;
//   - nothing from src/ (the image has no src/), only Node's built-ins plus `postgres` and
//     `@node-rs/argon2`, which the production image ships;
//   - those two are resolved from the node_modules of the CURRENT WORKING DIRECTORY, not from
//     beside this file (in /tmp there is no node_modules).
//
// Run `node reset-auth.js --help` for the actions.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { parseArgs as parseArgv } from 'node:util';

const ARGON2_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 }; // as src/lib/server/auth/password.ts
const PASSWORD_MIN = 8; // as src/lib/schemas/fields.ts (checked on the trimmed value)
const PASSWORD_MAX = 256;
const USERNAME_RE = /^[a-z0-9._@-]{3,64}$/;
const FORWARD_AUTH_ISSUER = 'forward-auth';

const ACTIONS = {
	status: {
		summary: 'Show users, sign-in toggles and SSO settings, and which ways in work now.',
		flags: []
	},
	'wipe-sso': {
		summary: 'Clear the SSO configuration and every SSO link, and sign everyone out.',
		flags: ['force']
	},
	'enable-local': {
		summary: 'Switch the username/password sign-in form back on.',
		flags: []
	},
	'enable-plex': {
		summary: 'Switch the "Sign in with Plex" button back on.',
		flags: []
	},
	'clear-throttles': {
		summary: 'Lift every sign-in throttle at once (failed-attempt counters of all addresses).',
		flags: []
	},
	'reset-password': {
		summary:
			'Set a new local password (asked twice, not shown); ends all sessions of that user and lifts the sign-in throttle.',
		flags: ['username'],
		usage: 'reset-password [--username=NAME]'
	},
	'delete-user': {
		summary: 'Delete every user (their sessions too); the app then shows first-run setup.',
		flags: ['force']
	},
	'disable-2fa': {
		summary:
			'Turn the authenticator app (TOTP) off, for every user or the one named; the password alone signs in again.',
		flags: ['force', 'username'],
		usage: 'disable-2fa [--username=NAME]'
	}
};

const FLAG_HELP = {
	force:
		'--force          do not ask for confirmation (needed when there is no terminal);\n' +
		'                   accepted by every action, a no-op where nothing is asked',
	username:
		'--username=NAME  the local username to sign in with; picks the user when there are\n' +
		"                   several, and is stored as the user's username (3-64 of a-z 0-9 . _ @ -)"
};

class UsageError extends Error {}
class Refusal extends Error {}

// ---- output --------------------------------------------------------------------------------
//
// Stored strings (display names, usernames, issuers, subjects, header names, throttle keys) come
// from browsers, proxies and identity providers. Printed raw, an escape sequence in one of them
// could clear the admin's terminal or draw a fake message. So every stored string goes through
// show(), which escapes every control character (newlines too); and as a second line of defence
// everything printed has its control characters escaped, except the newlines of our own text.

// C0 and C1 controls, DEL, and the Unicode line separators and direction overrides that can
// reorder or hide what is shown.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeUnsafe(text, keep = '') {
	return text.replace(UNSAFE, (c) => {
		if (keep.includes(c)) return c;
		const code = c.charCodeAt(0);
		return code < 0x100
			? `\\x${code.toString(16).padStart(2, '0')}`
			: `\\u${code.toString(16).padStart(4, '0')}`;
	});
}

/** A stored string, safe to print: every control character shown as an escape. */
const show = (value) => escapeUnsafe(String(value));

const out = (line = '') => process.stdout.write(escapeUnsafe(line, '\n') + '\n');
const warn = (line) => out(`Warning: ${line}`);

function mainHelp() {
	const width = Math.max(...Object.keys(ACTIONS).map((a) => a.length));
	return [
		'Librariarr sign-in recovery.',
		'',
		'Usage: node reset-auth.js <action> [options]',
		"Run it from the app directory (/app in the container), so that it finds the app's packages.",
		'',
		'Actions:',
		...Object.entries(ACTIONS).map(([name, a]) => `  ${name.padEnd(width)}  ${a.summary}`),
		'',
		'Options:',
		`  ${FLAG_HELP.force.replace('\n', '\n  ')}`,
		`  ${FLAG_HELP.username.replace('\n', '\n  ')}`,
		"  --help           show this text, or one action's text with <action> --help",
		'',
		"Database: DATABASE_URL, or when it is unset the app's embedded PostgreSQL",
		'(password in CONFIG_DIR/.pg-password, port EMBEDDED_PG_PORT or 54329; the app must be running).'
	].join('\n');
}

function actionHelp(name) {
	const a = ACTIONS[name];
	const lines = [
		`Usage: node reset-auth.js ${a.usage ?? name}${a.flags.includes('force') ? ' [--force]' : ''}`,
		'',
		a.summary
	];
	if (a.flags.length) {
		lines.push('', 'Options:');
		for (const f of a.flags) lines.push(`  ${FLAG_HELP[f].replace('\n', '\n  ')}`);
	}
	return lines.join('\n');
}

// ---- arguments -----------------------------------------------------------------------------
//
// --force is accepted by every action (where nothing is asked it changes nothing), so automation
// can pass it everywhere.

/** @param {unknown} error @param {string[]} argv */
function argumentRefusal(error, argv) {
	const code = /** @type {{ code?: string }} */ (error).code;
	const message = error instanceof Error ? error.message : String(error);
	if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
		const arg = argv.find((a) => a.startsWith('-') && message.includes(a.split('=')[0]));
		return `Unknown option "${arg ?? message}". See --help.`;
	}
	if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
		if (message.includes('--force')) return '--force takes no value.';
		if (message.includes('--username')) return '--username needs a value: --username=NAME';
		if (message.includes('--help')) return '--help takes no value.';
	}
	return `${message} See --help.`;
}

/** Node's own parser (util.parseArgs), with this script's words for its refusals. */
function parseArgs(argv) {
	let parsed;
	try {
		parsed = parseArgv({
			args: argv,
			options: {
				help: { type: 'boolean', short: 'h' },
				force: { type: 'boolean' },
				username: { type: 'string' }
			},
			strict: true,
			allowPositionals: true,
			tokens: true
		});
	} catch (error) {
		throw new UsageError(argumentRefusal(error, argv));
	}
	const names = parsed.tokens.filter((t) => t.kind === 'option').map((t) => t.name);
	if (names.filter((n) => n === 'username').length > 1)
		throw new UsageError('--username was given twice.');
	if (parsed.positionals.length > 1)
		throw new UsageError(`Unexpected argument "${parsed.positionals[1]}". See --help.`);
	const action = parsed.positionals[0] ?? null;
	const flags = {
		help: parsed.values.help ?? false,
		force: parsed.values.force ?? false,
		username: parsed.values.username
	};
	if (action !== null && !Object.hasOwn(ACTIONS, action)) {
		throw new UsageError(`Unknown action "${action}". See --help for the list.`);
	}
	if (action && !flags.help) {
		const allowed = ACTIONS[action].flags;
		if (flags.username !== undefined && !allowed.includes('username'))
			throw new UsageError(`${action} does not take --username.`);
	}
	if (flags.username !== undefined) {
		const name = flags.username.trim().toLowerCase();
		if (!USERNAME_RE.test(name)) {
			throw new UsageError(
				'--username must be 3 to 64 characters of a-z, 0-9 and . _ @ - (it is stored lower-cased).'
			);
		}
		flags.username = name;
	}
	return { action, flags };
}

// ---- environment ---------------------------------------------------------------------------

// Mirrors isTruthy() in src/lib/server/plain/env.js (this script cannot import from src/):
// "true", "1" or "yes", any case, surrounding spaces ignored; anything else is off.
function isTruthy(value) {
	return value !== undefined && ['true', '1', 'yes'].includes(value.trim().toLowerCase());
}

/** The app's packages, from the node_modules of the working directory. */
function loadPackages() {
	const require = createRequire(path.join(process.cwd(), 'package.json'));
	try {
		const pg = require('postgres');
		const argon2 = require('@node-rs/argon2');
		return { postgres: pg.default ?? pg, argon2 };
	} catch (error) {
		if (error && error.code === 'MODULE_NOT_FOUND') {
			throw new Refusal(
				`Cannot find the app's packages (postgres, @node-rs/argon2) in ${process.cwd()}: ` +
					'run this from the Librariarr app directory, e.g. cd /app (docker exec -w /app ...).'
			);
		}
		throw error;
	}
}

/**
 * DATABASE_URL, or the file DATABASE_URL_FILE names (a Docker secret), never both: the app's own
 * rule (src/lib/server/plain/env.js secretValue), written again here because this script loads
 * nothing from src/.
 */
function databaseUrl() {
	const direct = process.env.DATABASE_URL?.trim();
	const file = process.env.DATABASE_URL_FILE?.trim();
	if (!file) return direct;
	if (direct) {
		throw new Refusal(
			'DATABASE_URL and DATABASE_URL_FILE are both set: keep one (DATABASE_URL_FILE names a file that holds the value, such as a Docker secret).'
		);
	}
	let text;
	try {
		text = fs.readFileSync(file, 'utf8').trim();
	} catch (error) {
		throw new Refusal(
			`DATABASE_URL_FILE=${JSON.stringify(file)} cannot be read (${error.code ?? error}).`
		);
	}
	if (!text) throw new Refusal(`DATABASE_URL_FILE=${JSON.stringify(file)} is empty.`);
	return text;
}

/** Where to connect, and a description of it that never includes a password. */
function connectionTarget() {
	const url = databaseUrl();
	if (url) {
		let where = 'the database in DATABASE_URL';
		try {
			const u = new URL(url);
			where = `the database at ${u.hostname}${u.port ? ':' + u.port : ''}${u.pathname}`;
		} catch {
			throw new Refusal(
				'DATABASE_URL is not a valid URL (expected postgres://user:password@host:port/database).'
			);
		}
		return { options: url, where, embedded: false };
	}
	const configDir = path.resolve(process.env.CONFIG_DIR?.trim() || './data');
	const portText = process.env.EMBEDDED_PG_PORT ?? '54329';
	const port = Number(portText);
	if (!Number.isInteger(port) || port < 1 || port > 65535) {
		throw new Refusal(`EMBEDDED_PG_PORT must be a TCP port number, got "${portText}".`);
	}
	const passwordFile = path.join(configDir, '.pg-password');
	let password;
	try {
		password = fs.readFileSync(passwordFile, 'utf8').trim();
	} catch {
		throw new Refusal(
			`DATABASE_URL is not set and there is no embedded database password at ${passwordFile}: ` +
				"set DATABASE_URL, or CONFIG_DIR to the app's config directory (/config in the image)."
		);
	}
	out(
		`DATABASE_URL is not set, so this uses the app's embedded PostgreSQL on 127.0.0.1:${port} ` +
			`(password from ${passwordFile}).`
	);
	return {
		options: {
			host: '127.0.0.1',
			port,
			user: 'librariarr',
			pass: password,
			database: 'librariarr'
		},
		where: `the embedded PostgreSQL on 127.0.0.1:${port}`,
		embedded: true
	};
}

async function connect(postgres) {
	const target = connectionTarget();
	const sql = postgres(target.options, {
		max: 1,
		connect_timeout: 10,
		onnotice: () => {},
		// Never let the driver print anything of its own.
		debug: false
	});
	try {
		await sql`select 1 from "AppSettings" limit 1`;
	} catch (error) {
		await sql.end({ timeout: 1 }).catch(() => {});
		const reason = describeDbError(error);
		const hint = target.embedded
			? ' The embedded database only runs while the app does: start the app (container) and try again.'
			: '';
		throw new Refusal(`Could not use ${target.where}: ${reason}.${hint}`);
	}
	return sql;
}

function describeDbError(error) {
	const code = error?.code;
	if (code === '42P01') return 'it has no Librariarr tables (has the app ever started on it?)';
	if (code === 'ECONNREFUSED') return 'connection refused (nothing is listening there)';
	if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
	if (code === 'CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'the connection timed out';
	if (code === '28P01' || code === '28000') return 'the server refused the user name or password';
	if (code === '3D000') return 'that database does not exist';
	return oneLine(error);
}

function oneLine(error) {
	const text = error instanceof Error ? error.message : String(error);
	return text.split('\n')[0].trim() || 'unknown error';
}

// ---- terminal input ------------------------------------------------------------------------

class Aborted extends Error {}

/**
 * Reads one line from the terminal in raw mode. With echo off nothing at all is shown for the
 * typed characters. Backspace deletes, Ctrl-C (and Ctrl-D on an empty line) aborts.
 */
function readLine(prompt, { echo }) {
	const stdin = process.stdin;
	return new Promise((resolve, reject) => {
		let chars = [];
		let escape = false;
		const finish = (fn) => {
			stdin.off('data', onData);
			stdin.off('end', onEnd);
			stdin.setRawMode(false);
			stdin.pause();
			process.stdout.write('\n');
			fn();
		};
		const onEnd = () => finish(() => reject(new Aborted()));
		const onData = (chunk) => {
			for (const ch of chunk.toString('utf8')) {
				if (escape) {
					// Skip terminal escape sequences (arrow keys and the like): ESC [ ... final byte.
					if (ch !== '[' && ch >= '@' && ch <= '~') escape = false;
					continue;
				}
				if (ch === '\r' || ch === '\n') return finish(() => resolve(chars.join('')));
				if (ch === '\u0003') return finish(() => reject(new Aborted()));
				if (ch === '\u0004') {
					if (chars.length === 0) return finish(() => reject(new Aborted()));
					continue;
				}
				if (ch === '\u007f' || ch === '\b') {
					if (chars.length) {
						chars.pop();
						if (echo) process.stdout.write('\b \b');
					}
					continue;
				}
				if (ch === '\u0015') {
					// Ctrl-U: clear the line.
					if (echo) process.stdout.write('\b \b'.repeat(chars.length));
					chars = [];
					continue;
				}
				if (ch === '\u001b') {
					escape = true;
					continue;
				}
				if (ch < ' ') continue;
				chars.push(ch);
				if (echo) process.stdout.write(ch);
			}
		};
		stdin.setRawMode(true); // before the prompt: nothing typed after it is echoed by the terminal
		stdin.resume();
		stdin.on('data', onData);
		stdin.on('end', onEnd);
		process.stdout.write(prompt);
	});
}

const hasTerminal = () => Boolean(process.stdin.isTTY);

async function confirm(action, flags, description) {
	if (flags.force) return;
	out(description);
	const answer = await readLine('Type yes to go ahead: ', { echo: true });
	if (answer.trim().toLowerCase() !== 'yes') throw new Refusal('Cancelled; nothing was changed.');
}

function refuseWithoutTerminal(action, flags) {
	if (!flags.force && !hasTerminal()) {
		throw new Refusal(
			`${action} changes data and asks for confirmation, but there is no terminal to ask on. ` +
				'Add --force to go ahead without asking.'
		);
	}
}

// ---- reading the state ---------------------------------------------------------------------

/**
 * The relying-party ID passkeys must have been made for to work: the host of ORIGIN. Without
 * ORIGIN the app takes the host from each request, which this script cannot see: null, and
 * every passkey counts (the listing shows each one's host).
 */
function currentRpId() {
	const origin = process.env.ORIGIN?.trim();
	if (!origin) return null;
	try {
		return new URL(origin).hostname.replace(/^\[|\]$/g, '');
	} catch {
		return null;
	}
}

async function readState(sql) {
	const rpId = currentRpId();
	const users = await sql`
		select id, username, "localUsername", "passwordHash" is not null as "hasPassword",
			"plexId" is not null as "hasPlex", "plexUsername", "ssoProvider", "ssoIssuer", "ssoSubject",
			"sessionVersion",
			(select count(*)::int from "Passkey" p
				where p."userId" = "User".id and (${rpId}::text is null or p."rpId" = ${rpId})) as passkeys
		from "User" order by id
	`;
	const [settings] = await sql`
		select "localAuthEnabled", "plexLoginEnabled", "ssoEnabled", "ssoMode", "oidcIssuer",
			"oidcClientId", "oidcClientSecret" is not null as "hasClientSecret",
			"forwardAuthUserHeader", "previousSsoConfig" is not null as "hasPrevious",
			"passkeyLoginEnabled"
		from "AppSettings" where id = 1
	`;
	if (!settings)
		throw new Refusal('The "AppSettings" row is missing; start the app once so it can create it.');
	return { users, settings, override: isTruthy(process.env.SSO_DISABLE_OVERRIDE) };
}

// ---- BEGIN copy of identityFits() from rule/linked.ts and rule/issuer.ts --------------
// Which stored SSO link counts for the saved mode and issuer (a multi-tenant issuer covers the
// tenant the admin linked with). Copied for the same reason as offeredWays() below, and checked
// against the original by the same unit test.
const MULTI_TENANT_SEGMENTS = ['common', 'organizations', 'consumers'];

function sameIssuer(a, b) {
	return !!a && !!b && a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function entraSegments(issuer) {
	try {
		const url = new URL(issuer.replace(/\/+$/, ''));
		const segments = url.pathname.split('/');
		if (segments.length < 3 || segments.at(-1) !== 'v2.0') return null;
		return { origin: url.origin, segments };
	} catch {
		return null;
	}
}

function isMultiTenantIssuer(issuer) {
	const parts = issuer ? entraSegments(issuer) : null;
	return !!parts && MULTI_TENANT_SEGMENTS.includes(parts.segments.at(-2));
}

function issuerCovers(configured, linked) {
	if (sameIssuer(configured, linked)) return true;
	if (!configured || !linked || !isMultiTenantIssuer(configured)) return false;
	const a = entraSegments(configured);
	const b = entraSegments(linked);
	if (!b || a.origin !== b.origin || a.segments.length !== b.segments.length) return false;
	const tenant = a.segments.length - 2;
	return a.segments.every((segment, i) =>
		i === tenant
			? b.segments[i] !== '' && !MULTI_TENANT_SEGMENTS.includes(b.segments[i])
			: b.segments[i] === segment
	);
}

function identityFits(user, mode, issuer) {
	if (!user?.ssoSubject) return false;
	if (mode === 'FORWARD_AUTH')
		return user.ssoProvider === 'forward-auth' && user.ssoIssuer === FORWARD_AUTH_ISSUER;
	return user.ssoProvider === 'oidc' && issuerCovers(issuer, user.ssoIssuer);
}
// ---- END copy --------------------------------------------------------------------------------

// ---- BEGIN copy of offeredWays() from src/lib/server/rule/ways-in.ts ------------------------
// The one rule for ways in. This script is copied alone into a container and cannot import the
// app's module, so it carries this copy; tests/unit/ways-in.test.ts runs it against the original
// over every combination of inputs and fails when the two disagree.
function offeredWays(settings, accounts, env) {
	/** @type {"enabled" | "probe" | "off"} */
	let sso = 'off';
	if (!env.override && settings.ssoConfigured) {
		if (settings.ssoEnabled) sso = 'enabled';
		else if (!accounts.some((a) => a.ssoLinked)) sso = 'probe';
	}
	return {
		// SSO replaces the password form; the override brings it back whatever the toggle says.
		local:
			(settings.localAuthEnabled || env.override) &&
			sso !== 'enabled' &&
			accounts.some((a) => a.hasPassword),
		// The Plex button stays beside "Sign in with SSO".
		plex: (settings.plexLoginEnabled || env.override) && accounts.some((a) => a.hasPlex),
		sso,
		passkey: Boolean(settings.passkeyLoginEnabled) && accounts.some((a) => (a.passkeys ?? 0) > 0)
	};
}
// ---- END copy --------------------------------------------------------------------------------

/** What the login page offers right now, and to whom (the rule above, fed from the database). */
function waysIn({ users, settings, override }) {
	const configured =
		settings.ssoMode === 'FORWARD_AUTH' || Boolean(settings.oidcIssuer && settings.oidcClientId);
	const fits = (u) => identityFits(u, settings.ssoMode, settings.oidcIssuer);
	const passwordUsers = users.filter((u) => u.hasPassword && u.localUsername);
	const plexUsers = users.filter((u) => u.hasPlex);
	const offered = offeredWays(
		{
			localAuthEnabled: settings.localAuthEnabled,
			plexLoginEnabled: settings.plexLoginEnabled,
			ssoEnabled: settings.ssoEnabled,
			ssoMode: settings.ssoMode,
			ssoConfigured: configured,
			passkeyLoginEnabled: settings.passkeyLoginEnabled
		},
		users.map((u) => ({
			hasPassword: Boolean(u.hasPassword && u.localUsername),
			hasPlex: Boolean(u.hasPlex),
			ssoLinked: fits(u),
			passkeys: u.passkeys
		})),
		// As the app reads TRUSTED_PROXIES (src/lib/server/plain/env.js): a list, maybe empty.
		{ override, trustedProxies: (process.env.TRUSTED_PROXIES ?? '').split(/[\s,]+/).some(Boolean) }
	);
	return {
		sso: offered.sso,
		anyFits: users.some(fits),
		ssoHides: offered.sso === 'enabled',
		local: offered.local,
		plex: offered.plex,
		passwordUsers,
		plexUsers,
		passkey: offered.passkey,
		passkeyUsers: users.filter((u) => u.passkeys > 0)
	};
}

const onOff = (b) => (b ? 'on' : 'off');

/** `19:45 UTC`: when a throttle lifts, in this shell's time zone. */
function clockTime(date) {
	return date.toLocaleTimeString('en-GB', {
		hour: '2-digit',
		minute: '2-digit',
		timeZoneName: 'short'
	});
}

/**
 * The ways in, one line each. `throttles` (the keys refusing attempts, optional) adds when a
 * username's own throttle lifts, next to the password way it blocks for browsers it has not signed
 * in from before.
 */
function describeWaysIn(state, throttles = []) {
	const { users, settings, override } = state;
	const lifts = new Map(
		throttles
			.filter((t) => t.key.startsWith('password:account:'))
			.map((t) => [t.key.slice('password:account:'.length), t.liftsAt])
	);
	const w = waysIn(state);
	if (users.length === 0) {
		return ['No users exist: the app shows first-run setup (and Restore from Backup).'];
	}
	const lines = [];
	if (w.local) {
		const named = w.passwordUsers.map((u) => {
			const until = lifts.get(u.localUsername);
			return until
				? `${show(u.localUsername)} (throttled until ${clockTime(until)} for browsers it has not signed in from; clear-throttles lifts it)`
				: show(u.localUsername);
		});
		lines.push(`- Username and password, as ${named.join(', ')}.`);
	} else {
		const why = w.ssoHides
			? 'SSO is on, which replaces the form'
			: !settings.localAuthEnabled && !override
				? 'local login is switched off'
				: 'no user has both a username and a password';
		lines.push(`- Username and password: no (${why}).`);
	}
	if (w.plex) {
		lines.push(
			`- Plex, as ${w.plexUsers.map((u) => (u.plexUsername === null ? 'a linked account' : show(u.plexUsername))).join(', ')}.`
		);
	} else {
		const why =
			!settings.plexLoginEnabled && !override
				? 'Plex login is switched off'
				: 'no user has a Plex account linked';
		lines.push(`- Plex: no (${why}).`);
	}
	if (w.sso === 'enabled') {
		lines.push(
			w.anyFits
				? '- SSO: yes, for the linked identity, as long as the identity provider (or proxy) works.'
				: '- SSO: switched on, but nobody is linked for this provider, so it cannot sign anyone in.'
		);
	} else if (w.sso === 'probe') {
		lines.push('- SSO: no; the button only reports the subject to link (nobody is linked yet).');
	} else {
		const why = override
			? 'SSO_DISABLE_OVERRIDE is set'
			: settings.ssoMode === 'OIDC' && !(settings.oidcIssuer && settings.oidcClientId)
				? 'not configured'
				: 'switched off';
		lines.push(`- SSO: no (${why}).`);
	}
	if (w.passkey) {
		lines.push(`- Passkey, as ${w.passkeyUsers.map((u) => show(u.username)).join(', ')}.`);
	} else {
		const why = !settings.passkeyLoginEnabled
			? 'passkey sign-in is switched off'
			: 'no user has a passkey';
		lines.push(`- Passkey: no (${why}).`);
	}
	if (!w.local && !w.plex && !w.passkey && !(w.sso === 'enabled' && w.anyFits)) {
		lines.push('Nobody can sign in right now. reset-password, wipe-sso or enable-local may help.');
	}
	return lines;
}

// ---- actions -------------------------------------------------------------------------------

async function status(sql) {
	const state = await readState(sql);
	const { users, settings, override } = state;
	out(users.length === 1 ? 'Users (1):' : `Users (${users.length}):`);
	if (users.length === 0) out('  none');
	for (const u of users) {
		out(`  ${show(u.username)} (id ${u.id})`);
		out(`    local username: ${u.localUsername === null ? 'not set' : show(u.localUsername)}`);
		out(`    password: ${u.hasPassword ? 'set' : 'not set'}`);
		out(
			`    Plex: ${u.hasPlex ? `linked (${u.plexUsername === null ? 'username unknown' : show(u.plexUsername)})` : 'not linked'}`
		);
		out(
			`    SSO: ${u.ssoSubject ? `linked (${show(u.ssoProvider)}, issuer ${show(u.ssoIssuer)}, subject ${show(u.ssoSubject)})` : 'not linked'}`
		);
	}
	out('');
	for (const line of await accountSecurity(sql, users)) out(line);
	out('');
	out('Settings:');
	out(`  local login: ${onOff(settings.localAuthEnabled)}`);
	out(`  Plex login: ${onOff(settings.plexLoginEnabled)}`);
	out(`  SSO: ${onOff(settings.ssoEnabled)}`);
	if (settings.ssoMode === 'FORWARD_AUTH') {
		out(`  SSO mode: forward auth (user header ${show(settings.forwardAuthUserHeader)})`);
	} else {
		out('  SSO mode: OIDC');
		out(`  OIDC issuer: ${settings.oidcIssuer === null ? 'not set' : show(settings.oidcIssuer)}`);
		out(
			`  OIDC client ID: ${settings.oidcClientId === null ? 'not set' : show(settings.oidcClientId)}`
		);
		out(`  OIDC client secret: ${settings.hasClientSecret ? 'stored (not shown)' : 'not set'}`);
	}
	out(`  saved previous SSO configuration: ${settings.hasPrevious ? 'yes' : 'no'}`);
	out('');
	const throttles = await activeThrottles(sql);
	if (throttles.length === 0) out('Sign-in throttle: nothing is being refused.');
	else {
		out(
			`Sign-in throttle: ${throttles.length} key(s) refusing attempts (clear-throttles lifts them):`
		);
		for (const t of throttles) {
			out(`  ${show(t.key)}: ${t.attempts} attempts, lifts at ${t.liftsAt.toISOString()}`);
		}
	}
	out('');
	await passkeyStatus(sql, settings);
	out(
		`SSO_DISABLE_OVERRIDE is ${override ? 'set' : 'not set'} in this shell's environment ` +
			"(the app's own environment may differ)."
	);
	out('');
	out(`Ways in right now${override ? ' (with the override on)' : ''}:`);
	for (const line of describeWaysIn(state, throttles)) {
		out(line.startsWith('-') ? `  ${line}` : line);
	}
}

/** The passkeys of every user: how many, their names, their host and when each was last used. */
async function passkeyStatus(sql, settings) {
	const rows = await sql`
		select p.name, p."rpId", p."lastUsedAt", u.username
		from "Passkey" p join "User" u on u.id = p."userId"
		order by u.id, p."createdAt", p.id
	`;
	out(`Passkeys (${rows.length}), passkey sign-in ${onOff(settings.passkeyLoginEnabled)}:`);
	if (rows.length === 0) out('  none');
	for (const p of rows) {
		const used = p.lastUsedAt === null ? 'never used' : `last used ${p.lastUsedAt.toISOString()}`;
		out(`  ${show(p.name)} (user ${show(p.username)}, host ${show(p.rpId)}, ${used})`);
	}
	out('');
}

async function wipeSso(sql, flags) {
	refuseWithoutTerminal('wipe-sso', flags);
	const before = await readState(sql);
	const linked = before.users.filter((u) => u.ssoSubject).length;
	await confirm(
		'wipe-sso',
		flags,
		'This clears the SSO settings (issuer, client ID, client secret, the saved previous\n' +
			`configuration), switches SSO off, removes the SSO link of ${linked} user(s) and signs every\n` +
			'user out. Passwords and Plex links are kept.'
	);
	const users = await sql.begin(async (tx) => {
		// The recovery SQL of the guide and README, unchanged ...
		await tx`UPDATE "AppSettings" SET "ssoEnabled" = false, "ssoMode" = 'OIDC', "oidcIssuer" = NULL, "oidcClientId" = NULL, "oidcClientSecret" = NULL, "previousSsoConfig" = NULL`;
		const updated =
			await tx`UPDATE "User" SET "ssoSubject" = NULL, "ssoIssuer" = NULL, "ssoProvider" = NULL, "ssoEnabled" = false, "sessionVersion" = "sessionVersion" + 1`;
		// ... plus a new configuration version, so running app instances drop the discovery
		// document they cached for the old issuer.
		await tx`UPDATE "AppSettings" SET "ssoConfigVersion" = "ssoConfigVersion" + 1`;
		return updated.count;
	});
	out(`SSO settings cleared; ${linked} SSO link(s) removed; ${users} user(s) signed out.`);
	const after = await readState(sql);
	out('Ways in now:');
	for (const line of describeWaysIn(after)) out(line.startsWith('-') ? `  ${line}` : line);
}

async function enableLocal(sql) {
	await sql`UPDATE "AppSettings" SET "localAuthEnabled" = true`;
	out('Local login is switched on.');
	const state = await readState(sql);
	const w = waysIn(state);
	if (!state.users.some((u) => u.hasPassword)) {
		warn('no user has a password, so the sign-in form still will not help. Run reset-password.');
	} else if (w.passwordUsers.length === 0) {
		warn('no user with a password has a local username. Run reset-password --username=NAME.');
	}
	if (w.ssoHides) {
		warn(
			'SSO is on, which hides the sign-in form. Run wipe-sso, or set SSO_DISABLE_OVERRIDE=true on the app and restart it.'
		);
	}
}

async function activeThrottles(sql) {
	return sql`
		select key, attempts, "windowEndsAt" as "liftsAt" from "Throttle"
		where attempts >= "maxAttempts" and "windowEndsAt" > now()
		order by "windowEndsAt", key
	`;
}

async function clearThrottles(sql) {
	const active = (await activeThrottles(sql)).length;
	// The recovery SQL of the README, unchanged.
	const deleted = await sql`DELETE FROM "Throttle"`;
	out(
		`Sign-in throttle lifted: ${deleted.count} counter(s) cleared, ${active} of them refusing attempts. ` +
			'Every address and account can try again now.'
	);
}

async function enablePlex(sql) {
	await sql`UPDATE "AppSettings" SET "plexLoginEnabled" = true`;
	out('Plex login is switched on.');
	const state = await readState(sql);
	if (!state.users.some((u) => u.hasPlex)) {
		warn('no user has a Plex account linked, so the Plex button cannot sign anyone in.');
	}
}

function listUsers(users) {
	return users
		.map(
			(u) =>
				`${show(u.username)} (id ${u.id}, local username ${u.localUsername === null ? 'not set' : show(u.localUsername)})`
		)
		.join('; ');
}

function requireTerminalForPassword() {
	if (!hasTerminal()) {
		throw new Refusal(
			'reset-password asks for the new password and needs a terminal for that. ' +
				'With docker, use docker exec -it.'
		);
	}
}

async function resetPassword(sql, flags, argon2) {
	requireTerminalForPassword();
	const { users } = await readState(sql);
	if (users.length === 0) {
		throw new Refusal(
			'There are no users. Open the app in a browser to create one (first-run setup).'
		);
	}
	let user;
	const byName = flags.username && users.find((u) => u.localUsername === flags.username);
	if (byName) user = byName;
	else if (users.length === 1) user = users[0];
	else if (flags.username) {
		throw new Refusal(
			`No user has the local username "${flags.username}". Users: ${listUsers(users)}.`
		);
	} else {
		throw new Refusal(
			`There are ${users.length} users; pick one with --username=NAME. Users: ${listUsers(users)}.`
		);
	}
	const username = flags.username ?? user.localUsername;
	if (!username) {
		throw new Refusal(
			`${show(user.username)} has no local username yet, and the sign-in form needs one: ` +
				'run again with --username=NAME.'
		);
	}

	out(
		`Setting a new password for ${show(user.username)}; the sign-in username will be "${show(username)}".`
	);
	const first = await readLine('New password: ', { echo: false });
	if (first.trim().length < PASSWORD_MIN) {
		throw new Refusal(
			`The password needs at least ${PASSWORD_MIN} characters (spaces at the ends do not count). Nothing was changed.`
		);
	}
	if (first.length > PASSWORD_MAX) {
		throw new Refusal(
			`The password may have at most ${PASSWORD_MAX} characters. Nothing was changed.`
		);
	}
	const second = await readLine('Same password again: ', { echo: false });
	if (second !== first) throw new Refusal('The two entries differ. Nothing was changed.');

	const passwordHash = await argon2.hash(first, ARGON2_OPTIONS);
	let lifted;
	try {
		lifted = await sql.begin(async (tx) => {
			await tx`
				UPDATE "User" SET "passwordHash" = ${passwordHash}, "localUsername" = ${username},
					"sessionVersion" = "sessionVersion" + 1, "updatedAt" = now()
				WHERE id = ${user.id}
			`;
			// The recovery SQL of the README: a fresh password starts with no throttle in its way.
			return (await tx`DELETE FROM "Throttle"`).count;
		});
	} catch (error) {
		if (error?.code === '23505') {
			throw new Refusal(
				`Another user already has the local username "${username}". Nothing was changed.`
			);
		}
		throw error;
	}
	out(
		`Password set. ${show(user.username)} is signed out everywhere; sign in as "${show(username)}".`
	);
	if (lifted) out(`Sign-in throttle lifted (${lifted} counter(s) cleared).`);
	const state = await readState(sql);
	const w = waysIn(state);
	if (w.ssoHides) {
		warn(
			'SSO is on, which hides the sign-in form. Run wipe-sso, or set SSO_DISABLE_OVERRIDE=true on the app and restart it.'
		);
	} else if (!state.settings.localAuthEnabled && !state.override) {
		warn(
			'local login is switched off. Run enable-local, or set SSO_DISABLE_OVERRIDE=true on the app and restart it.'
		);
	}
}

async function deleteUser(sql, flags) {
	refuseWithoutTerminal('delete-user', flags);
	const { users } = await readState(sql);
	if (users.length === 0) {
		out('There are no users; nothing to delete. The app shows first-run setup.');
		return;
	}
	await confirm(
		'delete-user',
		flags,
		`This deletes ${users.length === 1 ? 'the user' : `all ${users.length} users`}: ${listUsers(users)}.\n` +
			'Their sessions and everything else tied to them go too. This cannot be undone.'
	);
	const deleted = await sql`DELETE FROM "User"`;
	out(
		`Deleted ${deleted.count} user(s). The app now shows first-run setup (or Restore from Backup).`
	);
}

// ---- account security (second step and recovery codes) -------------------------------------

/** The "Account security" part of status: per user, the second step and the recovery codes. */
async function accountSecurity(sql, users) {
	if (users.length === 0) return [];
	const rows = await sql`
		select u.id, u."totpSecret" is not null as "totpOn",
			(select count(*)::int from "RecoveryCode" r where r."userId" = u.id and r."usedAt" is null)
				as "recoveryCodes"
		from "User" u order by u.id
	`;
	const lines = ['Account security:'];
	for (const row of rows) {
		const user = users.find((u) => u.id === row.id);
		lines.push(`  ${show(user?.username ?? row.id)} (id ${row.id})`);
		lines.push(
			`    authenticator app (TOTP): ${row.totpOn ? 'on (disable-2fa turns it off)' : 'off'}`
		);
		lines.push(`    unused recovery codes: ${row.recoveryCodes}`);
	}
	return lines;
}

async function disableTwoFactor(sql, flags) {
	refuseWithoutTerminal('disable-2fa', flags);
	const { users } = await readState(sql);
	const on = await sql`
		select id, username, "localUsername" from "User" where "totpSecret" is not null
			and (${flags.username ?? null}::text is null or "localUsername" = ${flags.username ?? null})
		order by id
	`;
	if (flags.username && !users.some((u) => u.localUsername === flags.username)) {
		throw new Refusal(
			`No user has the local username "${flags.username}". Users: ${listUsers(users)}.`
		);
	}
	if (on.length === 0) {
		out('The authenticator app is already off; nothing to change.');
		return;
	}
	await confirm(
		'disable-2fa',
		flags,
		`This turns the authenticator app off for ${listUsers(on)}: the password alone signs in again.\n` +
			'Recovery codes are kept.'
	);
	await sql.begin(async (tx) => {
		// The recovery SQL of the README, for the chosen users.
		await tx`
			UPDATE "User" SET "totpSecret" = NULL, "totpPendingSecret" = NULL, "totpEnabledAt" = NULL,
				"totpLastStep" = NULL
			WHERE id in ${tx(on.map((u) => u.id))}
		`;
		for (const u of on) {
			await tx`
				insert into "AuditEvent" (event, "userId", method, detail)
				values ('totp.disabled', ${u.id}, 'cli', ${tx.json({ by: 'reset-auth.js disable-2fa' })})
			`;
		}
	});
	out(`Authenticator app turned off for ${listUsers(on)}.`);
}

// ---- main ----------------------------------------------------------------------------------

async function main(argv) {
	const { action, flags } = parseArgs(argv);
	if (flags.help) {
		out(action ? actionHelp(action) : mainHelp());
		return 0;
	}
	if (!action) {
		process.stderr.write(mainHelp() + '\n');
		return 2;
	}
	// Cheap refusals first, before touching the database.
	if (['wipe-sso', 'delete-user', 'disable-2fa'].includes(action)) {
		refuseWithoutTerminal(action, flags);
	}
	if (action === 'reset-password') requireTerminalForPassword();

	const { postgres, argon2 } = loadPackages();
	const sql = await connect(postgres);
	try {
		if (action === 'status') await status(sql);
		else if (action === 'wipe-sso') await wipeSso(sql, flags);
		else if (action === 'enable-local') await enableLocal(sql);
		else if (action === 'enable-plex') await enablePlex(sql);
		else if (action === 'clear-throttles') await clearThrottles(sql);
		else if (action === 'reset-password') await resetPassword(sql, flags, argon2);
		else if (action === 'delete-user') await deleteUser(sql, flags);
		else if (action === 'disable-2fa') await disableTwoFactor(sql, flags);
	} finally {
		await sql.end({ timeout: 2 }).catch(() => {});
	}
	return 0;
}

function fail(message, code = 1) {
	process.stderr.write(escapeUnsafe(message.replace(/\s*\n\s*/g, ' ')) + '\n');
	process.exitCode = code;
}

process.on('uncaughtException', (error) => {
	fail(`reset-auth: ${oneLine(error)}`);
	process.exit(1);
});
process.on('unhandledRejection', (error) => {
	fail(`reset-auth: ${oneLine(error)}`);
	process.exit(1);
});

try {
	process.exitCode = await main(process.argv.slice(2));
} catch (error) {
	if (error instanceof Aborted) fail('Aborted; nothing was changed.', 130);
	else if (error instanceof UsageError) fail(error.message, 2);
	else if (error instanceof Refusal) fail(error.message, 1);
	else fail(`reset-auth failed: ${describeDbError(error)}`, 1);
}
