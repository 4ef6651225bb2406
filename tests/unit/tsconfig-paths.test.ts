// The tracked path aliases (tsconfig.paths.json) and the ones `svelte-kit sync` generates must
// name the same files, or tools that read only the repository resolve $lib elsewhere than Kit.
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';

/** A JSONC file's object (the tracked file starts with line comments). */
function readJsonc(file: string) {
	const text = fs.readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
	return JSON.parse(text) as {
		extends?: string | string[];
		compilerOptions: { paths: Record<string, string[]> };
	};
}

/** Each alias's targets, made absolute against the directory of the file that names them. */
function absolutePaths(file: string) {
	const { paths } = readJsonc(file).compilerOptions;
	const dir = path.dirname(path.resolve(file));
	return Object.fromEntries(
		Object.entries(paths).map(([alias, targets]) => [
			alias,
			targets.map((t) => path.resolve(dir, t))
		])
	);
}

test('tsconfig.json extends the generated config and then the tracked paths', () => {
	expect(readJsonc('tsconfig.json').extends).toEqual([
		'./.svelte-kit/tsconfig.json',
		'./tsconfig.paths.json'
	]);
});

test('the tracked aliases name the same files as the ones svelte-kit sync generates', () => {
	expect(absolutePaths('tsconfig.paths.json')).toEqual(absolutePaths('.svelte-kit/tsconfig.json'));
});
