// What must hold before the app starts anything (the database, the HTTP listener): every
// environment variable is valid and the HTTP port is free. Run by `scripts/start.js` before it
// builds and by src/instrumentation.server.ts, which `node build` loads before any app code.
// Each problem is one line that names the variable, the value and an example; no stack.
import net from 'node:net';
import { readEnvironment } from './env.js';

/**
 * @param {number} port
 * @param {string} host
 * @returns {Promise<string | null>}
 */
function portProblem(port, host) {
	return new Promise((resolve) => {
		const probe = net.createServer();
		probe.once('error', (/** @type {NodeJS.ErrnoException} */ error) => {
			const other = port === 3000 ? 3001 : 3000;
			if (error.code === 'EADDRINUSE') {
				resolve(
					`PORT=${port}: port ${port} on ${host} is already in use by another program (is Librariarr already running?). Stop it, or choose another port. Example: PORT=${other}`
				);
			} else if (error.code === 'EACCES') {
				resolve(
					`PORT=${port}: this user may not listen on port ${port} (ports below 1024 need extra rights). Example: PORT=3000`
				);
			} else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
				resolve(`HOST="${host}" is not an address of this machine. Example: HOST=0.0.0.0`);
			} else {
				resolve(
					`PORT=${port}, HOST="${host}": cannot listen there (${error.code ?? error.message})`
				);
			}
		});
		probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(null)));
	});
}

/**
 * Every reason not to start, one line each (empty when all is well).
 * @param {NodeJS.ProcessEnv} [env]
 * @param {{ checkPort?: boolean }} [options] checkPort: false under `vite dev`, which has its own port
 */
export async function preflightProblems(env = process.env, { checkPort = true } = {}) {
	const { settings, problems } = readEnvironment(env);
	if (!settings) return problems;
	// A systemd socket or a Unix socket path: adapter-node does not use PORT then.
	if (!checkPort || env.SOCKET_PATH || env.LISTEN_PID) return [];
	const portInUse = await portProblem(settings.port, settings.host);
	return portInUse ? [portInUse] : [];
}

/**
 * Prints the problems and ends the process with status 1; returns when there are none.
 * @param {NodeJS.ProcessEnv} [env]
 * @param {{ checkPort?: boolean }} [options]
 */
export async function preflightOrExit(env = process.env, options = {}) {
	const problems = await preflightProblems(env, options);
	if (problems.length === 0) return;
	for (const problem of problems) console.error(`Cannot start: ${problem}`);
	process.exit(1);
}
