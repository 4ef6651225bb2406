// Whether build/ is current: it exists and nothing it is made from changed after it was written.
// Used by scripts/start.js so that `npm start` builds only when it has to.
import fs from 'node:fs';
import path from 'node:path';

/** What the build is made from (sql/ is not: the migrations are read at run time). */
export const SOURCES = [
	'src',
	'static',
	'svelte.config.js',
	'vite.config.ts',
	'tsconfig.json',
	'package.json',
	'package-lock.json'
];

/** @param {string} file */
function mtime(file) {
	try {
		return fs.statSync(file).mtimeMs;
	} catch {
		return 0;
	}
}

/**
 * The newest modification time among the sources under `root` (files in folders included).
 * @param {string} root
 */
export function newestSource(root) {
	let newest = 0;
	for (const entry of SOURCES) {
		const full = path.join(root, entry);
		newest = Math.max(newest, mtime(full));
		if (!fs.statSync(full, { throwIfNoEntry: false })?.isDirectory()) continue;
		for (const name of fs.readdirSync(full, { recursive: true })) {
			newest = Math.max(newest, mtime(path.join(full, String(name))));
		}
	}
	return newest;
}

/** @param {string} root the project folder */
export function buildIsCurrent(root) {
	const built = mtime(path.join(root, 'build', 'index.js'));
	return built > 0 && built >= newestSource(root);
}
