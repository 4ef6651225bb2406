// The layers (eslint/layers.js): the project's own ESLint configuration refuses an upward import,
// and, over the whole tree, no two folders (or loose modules) import each other.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { layerOf, LAYERS, resolveSpecifier } from '../../eslint/layers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The layer rule's messages for `code` placed at `file`, linted with eslint.config.js. */
async function upwardErrors(file: string, code: string) {
	const eslint = new ESLint({ cwd: root });
	const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
	return result.messages.filter((m) => m.ruleId === 'layers/no-upward-import');
}

describe('the layer rule in eslint.config.js', () => {
	it('refuses an upward import, relative or through $lib, and names both layers', async () => {
		const relative = await upwardErrors(
			'src/lib/server/rule/fixture.ts',
			"import { createSession } from '../auth/session';\nexport const x = createSession;\n"
		);
		expect(relative).toHaveLength(1);
		expect(relative[0].message).toContain(
			'(rule) must not import src/lib/server/auth/session (auth)'
		);
		const aliased = await upwardErrors(
			'src/lib/server/sso/fixture.ts',
			"export { signIn } from '$lib/server/auth/sign-in';\n"
		);
		expect(aliased).toHaveLength(1);
		expect(aliased[0].message).toContain('(model) must not import');
	}, 30_000);

	it('lets a module import its own layer and the ones below', async () => {
		expect(
			await upwardErrors(
				'src/lib/server/auth/fixture.ts',
				"import { sql } from '../db';\nimport { getSsoConfig } from '$lib/server/sso';\nimport { loadRuleInputs } from '../rule/inputs';\nimport { createSession } from './session';\nexport const x = [sql, getSsoConfig, loadRuleInputs, createSession];\n"
			)
		).toEqual([]);
	}, 30_000);

	it('places folders, their index and the modules it names', () => {
		expect(layerOf('src/lib/server/auth/sources/oidc.ts')?.name).toBe('sources');
		expect(layerOf('src/lib/server/auth/session.ts')?.name).toBe('auth');
		expect(layerOf('src/lib/server/sso')?.name).toBe('model');
		expect(layerOf('src/lib/server/db.ts')?.name).toBe('data');
		expect(layerOf('src/lib/server/something-new.ts')?.name).toBe('features');
		expect(layerOf('tests/unit/layers.test.ts')).toBeNull();
		expect(resolveSpecifier('postgres', 'src/lib/server/db.ts')).toBeNull();
	});
});

function walk(dir: string): string[] {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) return walk(full);
		return /\.(ts|js|svelte)$/.test(entry.name) ? [full] : [];
	});
}

const IMPORT =
	/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * The unit a file belongs to: its folder, except for the loose modules of src/, src/lib/ and
 * src/lib/server/, which the layers place one by one (db.ts is data, users.ts model…).
 */
function unitOf(file: string) {
	const folder = path.posix.dirname(file);
	return ['src', 'src/lib', 'src/lib/server'].includes(folder)
		? file.replace(/\.(ts|js|svelte)$/, '')
		: folder;
}

/** Which unit of src/ imports which other unit (a folder's index counts as the folder). */
function unitEdges() {
	const edges = new Set<string>();
	for (const full of walk(path.join(root, 'src'))) {
		const file = path.relative(root, full).split(path.sep).join('/');
		const from = unitOf(file);
		for (const match of fs.readFileSync(full, 'utf8').matchAll(IMPORT)) {
			const target = resolveSpecifier(match[1] ?? match[2], file);
			if (!target || !target.startsWith('src/')) continue;
			const isFolder =
				fs.existsSync(path.join(root, target)) &&
				fs.statSync(path.join(root, target)).isDirectory();
			const to = isFolder ? target : unitOf(target);
			if (to !== from) edges.add(`${from} → ${to}`);
		}
	}
	return edges;
}

describe('the folders of src/', () => {
	it('never import each other both ways', () => {
		const edges = unitEdges();
		expect(edges.size).toBeGreaterThan(20);
		const both = [...edges].filter((edge) => {
			const [a, b] = edge.split(' → ');
			return a < b && edges.has(`${b} → ${a}`);
		});
		expect(both).toEqual([]);
	});

	it('each belong to exactly one layer, listed bottom to top', () => {
		expect(LAYERS.map((l) => l.name)).toEqual([
			'plain',
			'data',
			'rule',
			'model',
			'sources',
			'auth',
			'features',
			'app'
		]);
	});
});
