#!/usr/bin/env node
// `npm start`: check the environment, build the app only when build/ is missing or older than
// its sources, then run the built server in this very process. npm passes SIGTERM and SIGINT on
// to this process (the script is `exec`ed, so no shell sits in between), and the server's own
// handlers then stop the HTTP listener, the database pool and the embedded PostgreSQL.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { preflightOrExit } from '../src/lib/server/plain/preflight.js';
import { buildIsCurrent } from './build-state.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'build', 'index.js');

/** Runs `vite build`, keeping its output unless it fails. */
function build() {
	console.log('Building… (the build is missing or older than the sources; about a minute)');
	const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
	if (!fs.existsSync(vite)) {
		console.error(
			'Cannot build: vite is not installed. Run `npm ci` first (with the dev dependencies).'
		);
		process.exit(1);
	}
	const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
		cwd: root,
		stdio: ['ignore', 'pipe', 'pipe'],
		env: { ...process.env, FORCE_COLOR: '0' }
	});
	/** @type {string[]} */
	const output = [];
	child.stdout.on('data', (chunk) => output.push(String(chunk)));
	child.stderr.on('data', (chunk) => output.push(String(chunk)));
	/** @param {NodeJS.Signals} signal */
	const stop = (signal) => child.kill(signal);
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
	return new Promise((resolve) => {
		child.on('close', (code, signal) => {
			process.off('SIGINT', stop);
			process.off('SIGTERM', stop);
			if (signal) process.exit(1);
			if (code !== 0) {
				process.stderr.write(output.join(''));
				console.error(`The build failed (exit ${code}).`);
				process.exit(1);
			}
			resolve(undefined);
		});
	});
}

// A backup upload for restore may be up to 50 MB; adapter-node's own default is 512 KB.
process.env.BODY_SIZE_LIMIT ??= '52M';
await preflightOrExit();
if (!buildIsCurrent(root)) await build();
await import(pathToFileURL(built).href);
