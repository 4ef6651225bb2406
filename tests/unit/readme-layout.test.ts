// The README's layout block (under "## Development") must match the tree: every server module and
// folder is named there, and every file it names exists. A new module without a README line, or a
// README line for a module that was renamed away, fails here.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LAYERS } from '../../eslint/layers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function layoutBlock(): string {
	const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
	const development = readme.slice(readme.indexOf('\n## Development'));
	const match = /```text\n([\s\S]*?)```/.exec(development);
	if (!match) throw new Error('README.md has no ```text layout block under "## Development"');
	return match[1];
}

function walk(dir: string): string[] {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const full = path.join(dir, entry.name);
		return entry.isDirectory() ? [full, ...walk(full)] : [full];
	});
}

/** `backup*.ts` in the README covers backup.ts and backup-format.ts. */
function globToRegExp(glob: string): RegExp {
	const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\w.-]*');
	return new RegExp(`^${escaped}$`);
}

const block = layoutBlock();
const fileTokens = [...block.matchAll(/[\w*.-]+\.(?:ts|js|sh|svelte)\b/g)].map((m) => m[0]);
const folderTokens = new Set([...block.matchAll(/([\w-]+)\//g)].map((m) => m[1]));
const patterns = fileTokens.map(globToRegExp);

describe('the README layout block', () => {
	const server = path.join(root, 'src/lib/server');
	const entries = walk(server).filter((p) => !p.endsWith('README.md'));

	it('names every server module', () => {
		const modules = entries.filter((p) => /\.(ts|js)$/.test(p)).map((p) => path.basename(p));
		const missing = modules.filter((name) => !patterns.some((re) => re.test(name)));
		expect(missing, 'modules under src/lib/server with no line in the README layout').toEqual([]);
	});

	it('names every server folder', () => {
		const folders = entries
			.filter((p) => fs.statSync(p).isDirectory())
			.map((p) => path.basename(p));
		const missing = folders.filter((name) => !folderTokens.has(name));
		expect(missing, 'folders under src/lib/server with no line in the README layout').toEqual([]);
	});

	it('draws the layers eslint/layers.js keeps, in its order, and tags folders with theirs', () => {
		const order = LAYERS.map((layer) => layer.name).join(' → ');
		expect(block).toContain(`layers, bottom to top: ${order}\n`);
		const folders = ['plain', 'rule', 'sso', 'auth', 'auth/sources', 'backup'];
		for (const folder of folders) {
			const tag = new RegExp(`^ {2}${folder}/ +\\[([a-z]+)\\]`, 'm').exec(block)?.[1];
			expect(tag, `the README's layer for ${folder}/`).toBe(
				LAYERS.find((l) => l.paths.includes(`src/lib/server/${folder}/`))?.name
			);
		}
	});

	it('names no file that does not exist', () => {
		const everything = ['src', 'scripts', 'tests', 'eslint']
			.flatMap((dir) => walk(path.join(root, dir)))
			.concat(fs.readdirSync(root).map((name) => path.join(root, name)))
			.map((p) => path.basename(p));
		const stale = fileTokens.filter(
			(token) => !everything.some((name) => globToRegExp(token).test(name))
		);
		expect(stale, 'files named in the README layout that are not in the tree').toEqual([]);
	});
});
