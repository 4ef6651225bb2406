import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { buildIsCurrent } from '../../scripts/build-state.js';

// `npm start` builds only when build/ is missing or older than what it is made from.
let root: string;

/** Writes a file dated `secondsAgo`; its folders get that date too (a new entry changes them). */
function write(file: string, secondsAgo: number) {
	const full = path.join(root, file);
	fs.mkdirSync(path.dirname(full), { recursive: true });
	fs.writeFileSync(full, '');
	const when = new Date(Date.now() - secondsAgo * 1000);
	for (let p = full; p !== root; p = path.dirname(p)) fs.utimesSync(p, when, when);
}

function project() {
	root = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-build-state-'));
	write('package.json', 300);
	write('svelte.config.js', 300);
	write('src/routes/+page.svelte', 300);
	write('src/lib/server/deep/module.ts', 300);
	write('static/favicon.svg', 300);
	write('build/index.js', 100);
}

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('whether npm start has to build', () => {
	test('a build newer than every source is current', () => {
		project();
		expect(buildIsCurrent(root)).toBe(true);
	});

	test('no build at all is not current', () => {
		project();
		fs.rmSync(path.join(root, 'build'), { recursive: true });
		expect(buildIsCurrent(root)).toBe(false);
	});

	test.each([
		'src/lib/server/deep/module.ts',
		'src/routes/new/+page.svelte',
		'static/favicon.svg',
		'svelte.config.js',
		'vite.config.ts',
		'package.json',
		'package-lock.json'
	])('a change to %s after the build makes it stale', (file) => {
		project();
		write(file, 10);
		expect(buildIsCurrent(root)).toBe(false);
	});

	test('a deleted source makes it stale (its folder changed)', () => {
		project();
		fs.rmSync(path.join(root, 'src/lib/server/deep/module.ts'));
		expect(buildIsCurrent(root)).toBe(false);
	});

	test('migrations and tests are not built in, so changing them needs no build', () => {
		project();
		write('sql/0009_new.sql', 10);
		write('tests/unit/new.test.ts', 10);
		expect(buildIsCurrent(root)).toBe(true);
	});
});
