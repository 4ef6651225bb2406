// The layers of the server code, bottom to top, and the ESLint rule that keeps them: a module may
// import from its own layer or a lower one, never from a higher one. Each folder belongs to one
// layer, so two folders in different layers can only import one way; tests/unit/layers.test.ts
// also checks that no two folders import each other. The README's layout block draws the same
// list.
import path from 'node:path';

/**
 * Bottom to top. An entry ending in "/" is a folder (with its sub-folders, unless a longer entry
 * claims them); any other entry is one module, named without its extension. A module of
 * src/lib/server/ that no entry names is a feature (the top of the server): nothing below may
 * import it until it is placed lower here.
 */
export const LAYERS = [
	{
		name: 'plain',
		what: 'plain-Node modules the scripts load too',
		paths: ['src/lib/server/plain/']
	},
	{
		name: 'data',
		what: 'environment, database, logs, metrics, secrets at rest, outbound HTTP, the request’s client, shared pure code',
		paths: [
			'src/lib/server/config',
			'src/lib/server/db',
			'src/lib/server/log',
			'src/lib/server/crypto',
			'src/lib/server/http',
			'src/lib/server/health',
			'src/lib/server/metrics',
			'src/lib/server/headers',
			'src/lib/server/form',
			'src/lib/server/pages',
			'src/lib/server/user-agent',
			'src/lib/server/instance',
			'src/lib/server/client',
			'src/lib/schemas/',
			'src/lib/busy.svelte',
			'src/lib/cron',
			'src/lib/datetime',
			'src/lib/methods',
			'src/lib/plex-errors',
			'src/lib/sso-errors',
			'src/lib/step-up'
		]
	},
	{ name: 'rule', what: 'who can still sign in, and its inputs', paths: ['src/lib/server/rule/'] },
	{
		name: 'model',
		what: 'users, settings, the audit trail, alerts, Plex linking, single sign-on',
		paths: [
			'src/lib/server/users',
			'src/lib/server/settings',
			'src/lib/server/audit',
			'src/lib/server/alerts/',
			'src/lib/server/plex',
			'src/lib/server/sso/'
		]
	},
	{
		name: 'sources',
		what: 'login sources: OIDC, forward auth, Plex',
		paths: ['src/lib/server/auth/sources/']
	},
	{
		name: 'auth',
		what: 'sessions, factors, throttling and the sign-in flows',
		paths: ['src/lib/server/auth/']
	},
	{
		name: 'features',
		what: 'backups, housekeeping, history, diagnostics',
		paths: ['src/lib/server/backup/', 'src/lib/server/']
	},
	{
		name: 'app',
		what: 'routes, hooks, components',
		paths: [
			'src/routes/',
			'src/lib/components/',
			'src/lib/post',
			'src/hooks',
			'src/instrumentation.server',
			'src/app'
		]
	}
];

const ORDER = LAYERS.map((l) => l.name).join(' → ');

/**
 * The layer of a repository path (posix, relative to the root, with or without extension), or null.
 * @param {string} file
 * @returns {{ index: number, name: string } | null}
 */
export function layerOf(file) {
	const bare = file.replace(/\.(d\.ts|ts|js|svelte)$/, '');
	/** @type {{ index: number, name: string } | null} */
	let best = null;
	let bestLength = -1;
	LAYERS.forEach((layer, index) => {
		for (const entry of layer.paths) {
			const hit = entry.endsWith('/')
				? (bare + '/').startsWith(entry)
				: bare === entry || bare === `${entry}/index`;
			if (hit && entry.length > bestLength) {
				best = { index, name: layer.name };
				bestLength = entry.length;
			}
		}
	});
	return best;
}

/**
 * Where an import specifier points, as a repository path, or null for a package.
 * @param {string} specifier
 * @param {string} fromFile
 */
export function resolveSpecifier(specifier, fromFile) {
	if (specifier.startsWith('$lib/') || specifier === '$lib')
		return path.posix.join('src/lib', specifier.slice(4));
	if (specifier.startsWith('.')) return path.posix.join(path.posix.dirname(fromFile), specifier);
	return null;
}

/** @type {import('eslint').Rule.RuleModule} */
const noUpwardImport = {
	meta: {
		type: 'problem',
		docs: { description: `Imports go down the layers only: ${ORDER}` },
		messages: {
			upward:
				'{{from}} ({{fromLayer}}) must not import {{to}} ({{toLayer}}): imports go down the layers only ({{order}}). Move what both need to the lower layer, or pass it in.'
		},
		schema: []
	},
	create(context) {
		const root = context.cwd ?? process.cwd();
		const from = path.relative(root, context.filename).split(path.sep).join('/');
		const own = layerOf(from);
		if (!own) return {};
		/** @param {{ source?: unknown }} node */
		const check = (node) => {
			const source = /** @type {import('estree').Literal | null | undefined} */ (node.source);
			const specifier = source?.value;
			if (typeof specifier !== 'string') return;
			const to = resolveSpecifier(specifier, from);
			const target = to && layerOf(to);
			if (!target || target.index <= own.index) return;
			context.report({
				node: /** @type {import('estree').Node} */ (source),
				messageId: 'upward',
				data: { from, fromLayer: own.name, to, toLayer: target.name, order: ORDER }
			});
		};
		return {
			ImportDeclaration: check,
			ExportNamedDeclaration: check,
			ExportAllDeclaration: check,
			ImportExpression: check
		};
	}
};

export default { rules: { 'no-upward-import': noUpwardImport } };
