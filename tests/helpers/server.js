// Starts the built app (`node build`) as its own process, the way it runs in production.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './pg.js';

/**
 * @param {{ databaseUrl: string, env?: Record<string, string | undefined>, port?: number, logFile?: string }} options
 *   logFile: a file the server's output is also appended to as it comes, for readers outside
 *   this process (the e2e tests look for log lines in it while the server runs).
 */
export async function startServer({ databaseUrl, env = {}, port, logFile }) {
	port ??= await freePort();
	const url = `http://127.0.0.1:${port}`;
	/** @type {string[]} */
	const lines = [];
	const child = spawn(process.execPath, [path.resolve('build')], {
		env: {
			...process.env,
			PORT: String(port),
			HOST: '127.0.0.1',
			DATABASE_URL: databaseUrl || undefined,
			ORIGIN: undefined,
			TRUSTED_PROXIES: undefined,
			SSO_DISABLE_OVERRIDE: undefined,
			COOKIE_SECURE: undefined,
			LOG_LEVEL: 'debug',
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	for (const stream of [child.stdout, child.stderr]) {
		stream.setEncoding('utf8');
		stream.on('data', (/** @type {string} */ chunk) => {
			lines.push(...chunk.split('\n').filter(Boolean));
			if (logFile) fs.appendFileSync(logFile, chunk);
		});
	}
	const exited = new Promise((resolve) => child.once('exit', resolve));

	const deadline = Date.now() + 20_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`Server exited early:\n${lines.join('\n')}`);
		try {
			const res = await fetch(`${url}/healthz`);
			if (res.status === 200) break;
		} catch {
			// not listening yet
		}
		if (Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`Server did not become healthy:\n${lines.join('\n')}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}

	return {
		url,
		port,
		/** The server process's id (tests read its memory from /proc). */
		pid: /** @type {number} */ (child.pid),
		/** Everything the server printed so far. */
		logs: () => lines.join('\n'),
		stop: async () => {
			if (child.exitCode === null) {
				child.kill('SIGTERM');
				const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
				await exited;
				clearTimeout(timer);
			}
		}
	};
}
