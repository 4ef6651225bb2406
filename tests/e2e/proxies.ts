// Real authenticating reverse proxies in front of the app, for tests/e2e/forward-auth.spec.ts.
//
// One stack per worker (started on first use, stopped when the worker ends):
//   - an auth stub (node:http) standing in for Authelia / Authentik's outpost / oauth2-proxy;
//   - a second instance of the built app, on the e2e database, started with
//     TRUSTED_PROXIES=127.0.0.1/32 (the instance from global-setup trusts nobody and stays the
//     "reached directly" app);
//   - nginx (auth_request) and Caddy (forward_auth) in front of that second instance, each
//     started the first time a test asks for it, with its configuration in a temporary directory.
//
// The stub decides from the browser's cookies, which both proxies pass on to it with the auth
// subrequest:
//   - no `stub_user` cookie          → 401 (not signed in at the proxy);
//   - `stub_user=-`                  → 200 without any identity header (a "bypass" rule);
//   - `stub_user=<name>`             → 200 with the user, email and name headers of the current
//                                      mode (set by the test with `stub.mode = …`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from '@playwright/test';
import { test as base } from './fixtures';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

export { expect } from './fixtures';

export type StubMode = 'remote' | 'authentik' | 'oauth2';
export type ProxyName = 'nginx' | 'caddy';

/** The identity headers the stub answers with, per mode: the three presets of the app. */
export const MODE_HEADERS: Record<StubMode, { user: string; email: string; name: string }> = {
	remote: { user: 'Remote-User', email: 'Remote-Email', name: 'Remote-Name' },
	authentik: {
		user: 'X-authentik-username',
		email: 'X-authentik-email',
		name: 'X-authentik-name'
	},
	oauth2: {
		user: 'X-Forwarded-Preferred-Username',
		email: 'X-Forwarded-Email',
		name: 'X-Forwarded-User'
	}
};

/** Every header a proxy copies from the stub's answer onto the request to the app. */
export const IDENTITY_HEADERS = Object.values(MODE_HEADERS).flatMap((h) => [
	h.user,
	h.email,
	h.name
]);

export const BINARIES: Record<ProxyName, string> = {
	nginx: process.env.NGINX_PATH ?? '/usr/sbin/nginx',
	caddy: process.env.CADDY_PATH ?? '/usr/bin/caddy'
};

/** "alice" → "Alice Capitalised": what the stub sends as the display name. */
export function displayNameOf(user: string) {
	return `${user.charAt(0).toUpperCase()}${user.slice(1)} Capitalised`;
}
export function emailOf(user: string) {
	return `${user}@example.test`;
}

export type AuthStub = {
	url: string;
	port: number;
	/** Which header names the next answers use. */
	mode: StubMode;
	/** Auth subrequests seen so far (path and the user the stub answered with, or null). */
	seen: { uri: string | null; user: string | null; status: number }[];
	stop: () => Promise<void>;
};

function readCookie(header: string | undefined, name: string): string | null {
	for (const part of (header ?? '').split(';')) {
		const [key, ...rest] = part.trim().split('=');
		if (key === name) return decodeURIComponent(rest.join('='));
	}
	return null;
}

export async function startAuthStub(): Promise<AuthStub> {
	const port = await freePort();
	const stub: AuthStub = {
		url: `http://127.0.0.1:${port}`,
		port,
		mode: 'remote',
		seen: [],
		stop: async () => {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		}
	};
	const server = http.createServer((req, res) => {
		const user = readCookie(req.headers.cookie, 'stub_user');
		const uri =
			(req.headers['x-original-uri'] as string | undefined) ?? req.headers['x-forwarded-uri'];
		if (!req.url?.startsWith('/verify') || user === null || user === '') {
			stub.seen.push({ uri: (uri as string) ?? null, user: null, status: 401 });
			res.writeHead(401, { 'content-type': 'text/plain' });
			res.end('Not signed in at the auth stub\n');
			return;
		}
		stub.seen.push({ uri: (uri as string) ?? null, user: user === '-' ? null : user, status: 200 });
		const names = MODE_HEADERS[stub.mode];
		const headers: Record<string, string> =
			user === '-'
				? {}
				: {
						[names.user]: user,
						[names.email]: emailOf(user),
						[names.name]: displayNameOf(user)
					};
		res.writeHead(200, { ...headers, 'content-type': 'text/plain' });
		res.end('OK\n');
	});
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
	return stub;
}

function requireBinary(name: ProxyName) {
	const bin = BINARIES[name];
	if (!fs.existsSync(bin)) {
		throw new Error(
			`${name} is not installed (expected the ${name} binary at ${bin}): the forward-auth e2e ` +
				`tests need a real ${name}. Install it (apt-get install ${name}) or set ` +
				`${name.toUpperCase()}_PATH.`
		);
	}
	return bin;
}

async function waitForPort(port: number, child: ChildProcess, what: string, logs: () => string) {
	const deadline = Date.now() + 15_000;
	for (;;) {
		if (child.exitCode !== null || child.signalCode !== null) {
			throw new Error(`${what} exited early (${child.exitCode ?? child.signalCode}):\n${logs()}`);
		}
		const open = await new Promise<boolean>((resolve) => {
			const socket = net.connect(port, '127.0.0.1');
			socket.once('connect', () => {
				socket.destroy();
				resolve(true);
			});
			socket.once('error', () => resolve(false));
		});
		if (open) return;
		if (Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`${what} did not start listening on ${port}:\n${logs()}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
}

/** The nginx variable holding a response header of the auth subrequest: $upstream_http_x_y. */
function upstreamVar(header: string) {
	return `$upstream_http_${header.toLowerCase().replace(/-/g, '_')}`;
}

export function nginxConfig(dir: string, port: number, stubPort: number, appPort: number) {
	const copies = IDENTITY_HEADERS.map((header, i) => ({ header, variable: `$fa_${i}` }));
	return `# Written by tests/e2e/proxies.ts
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }

http {
	access_log ${dir}/access.log;
	client_body_temp_path ${dir}/tmp/client_body;
	proxy_temp_path ${dir}/tmp/proxy;
	fastcgi_temp_path ${dir}/tmp/fastcgi;
	uwsgi_temp_path ${dir}/tmp/uwsgi;
	scgi_temp_path ${dir}/tmp/scgi;

	server {
		listen 127.0.0.1:${port};

		location / {
			auth_request /_auth;
			# Copy the identity headers from the auth answer onto the request to the app. Setting
			# them here also drops any header of the same name the client sent.
${copies.map(({ header, variable }) => `\t\t\tauth_request_set ${variable} ${upstreamVar(header)};\n\t\t\tproxy_set_header ${header} ${variable};`).join('\n')}

			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-Proto $scheme;
			proxy_set_header X-Forwarded-Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_pass http://127.0.0.1:${appPort};
		}

		location = /_auth {
			internal;
			proxy_pass http://127.0.0.1:${stubPort}/verify;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header X-Original-URI $request_uri;
		}
	}
}
`;
}

export function caddyfile(port: number, stubPort: number, appPort: number) {
	return `# Written by tests/e2e/proxies.ts
{
	admin off
	auto_https off
}

http://127.0.0.1:${port} {
	route {
		# Never let a client send its own identity headers: drop them before asking the auth server.
${IDENTITY_HEADERS.map((h) => `\t\trequest_header -${h}`).join('\n')}
		forward_auth 127.0.0.1:${stubPort} {
			uri /verify
			copy_headers ${IDENTITY_HEADERS.join(' ')}
		}
		reverse_proxy 127.0.0.1:${appPort}
	}
}
`;
}

export type RunningProxy = {
	name: ProxyName;
	url: string;
	port: number;
	dir: string;
	/** What the binary reports, e.g. "2.6.2" or "v2.10.0 h1:…" (Caddy), "nginx/1.22.1". */
	version: string;
	/**
	 * What the app receives in a header the proxy copies from the auth answer when the answer
	 * does not have it: nothing (nginx; Caddy 2.9 and later) or, with Caddy before 2.9, the
	 * literal placeholder text (caddyserver/caddy#6610).
	 */
	missingCopiedHeader: 'absent' | 'placeholder';
	logs: () => string;
	stop: () => Promise<void>;
};

function binaryVersion(name: ProxyName, bin: string) {
	const result = spawnSync(bin, name === 'nginx' ? ['-v'] : ['version'], { encoding: 'utf8' });
	return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
}

/** Caddy before 2.9 sets a copied header to its placeholder when the auth answer lacks it. */
export function caddyCopiesPlaceholders(version: string) {
	const match = /v?(\d+)\.(\d+)/.exec(version);
	if (!match) throw new Error(`Cannot read the Caddy version from "${version}"`);
	const [major, minor] = [Number(match[1]), Number(match[2])];
	return major < 2 || (major === 2 && minor < 9);
}

async function startProxy(
	name: ProxyName,
	stubPort: number,
	appPort: number
): Promise<RunningProxy> {
	const bin = requireBinary(name);
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `librariarr-${name}-`));
	fs.chmodSync(dir, 0o755); // nginx's workers run as another user when the tests run as root
	const port = await freePort();
	let child: ChildProcess;
	if (name === 'nginx') {
		fs.mkdirSync(path.join(dir, 'tmp'), { mode: 0o777 });
		fs.chmodSync(path.join(dir, 'tmp'), 0o777);
		fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig(dir, port, stubPort, appPort));
		child = spawn(
			bin,
			['-e', path.join(dir, 'error.log'), '-p', dir, '-c', path.join(dir, 'nginx.conf')],
			{
				stdio: ['ignore', 'pipe', 'pipe']
			}
		);
	} else {
		fs.writeFileSync(path.join(dir, 'Caddyfile'), caddyfile(port, stubPort, appPort));
		child = spawn(bin, ['run', '--config', path.join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {
				...process.env,
				HOME: dir,
				XDG_CONFIG_HOME: path.join(dir, 'config'),
				XDG_DATA_HOME: path.join(dir, 'data')
			}
		});
	}
	const lines: string[] = [];
	for (const stream of [child.stdout!, child.stderr!]) {
		stream.setEncoding('utf8');
		stream.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
	}
	const logs = () => {
		const errorLog = path.join(dir, 'error.log');
		const fileLog = fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '';
		return [...lines, fileLog].join('\n');
	};
	const exited = new Promise((resolve) => child.once('exit', resolve));
	await waitForPort(port, child, name, logs);
	const version = binaryVersion(name, bin);
	return {
		name,
		url: `http://127.0.0.1:${port}`,
		port,
		dir,
		version,
		missingCopiedHeader:
			name === 'caddy' && caddyCopiesPlaceholders(version) ? 'placeholder' : 'absent',
		logs,
		stop: async () => {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill(name === 'nginx' ? 'SIGQUIT' : 'SIGTERM');
				const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
				await exited;
				clearTimeout(timer);
			}
			fs.rmSync(dir, { recursive: true, force: true });
		}
	};
}

export type ForwardStack = {
	stub: AuthStub;
	/** The app instance behind the proxies (TRUSTED_PROXIES=127.0.0.1/32). */
	app: { url: string; port: number; logs: () => string };
	/** Starts (once) and returns the named proxy. Fails clearly when its binary is missing. */
	proxy: (name: ProxyName) => Promise<RunningProxy>;
};

export const test = base.extend<object, { forward: ForwardStack }>({
	forward: [
		// eslint-disable-next-line no-empty-pattern
		async ({}, use) => {
			const databaseUrl = process.env.E2E_DATABASE_URL;
			if (!databaseUrl) throw new Error('E2E_DATABASE_URL is not set: is global-setup running?');
			const stub = await startAuthStub();
			const app = await startServer({
				databaseUrl,
				env: { TRUSTED_PROXIES: '127.0.0.1/32', LOG_LEVEL: 'info' }
			});
			const running = new Map<ProxyName, Promise<RunningProxy>>();
			const stack: ForwardStack = {
				stub,
				app: { url: app.url, port: app.port, logs: app.logs },
				proxy: (name) => {
					let started = running.get(name);
					if (!started) {
						started = startProxy(name, stub.port, app.port);
						running.set(name, started);
					}
					return started;
				}
			};
			try {
				await use(stack);
			} finally {
				for (const started of running.values()) {
					await started.then((p) => p.stop()).catch(() => {});
				}
				await app.stop();
				await stub.stop();
			}
		},
		{ scope: 'worker' }
	]
});

/** Gives the browser the auth stub's session cookie (`null` removes it: signed out at the proxy). */
export async function setStubUser(context: BrowserContext, user: string | null) {
	await context.clearCookies({ name: 'stub_user' });
	if (user !== null) {
		await context.addCookies([{ name: 'stub_user', value: user, domain: '127.0.0.1', path: '/' }]);
	}
}
