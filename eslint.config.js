import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';
import layers from './eslint/layers.js';

export default ts.config(
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{ languageOptions: { globals: { ...globals.browser, ...globals.node } } },
	{
		files: ['**/*.svelte', '**/*.svelte.ts'],
		languageOptions: {
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
				svelteConfig
			}
		}
	},
	{
		rules: {
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', ignoreRestSiblings: true }
			],
			// Control characters are exactly what the validation regexes look for.
			'no-control-regex': 'off',
			// Plain links are the point: every page must work without JavaScript, and there is no base path.
			'svelte/no-navigation-without-resolve': 'off'
		}
	},
	{
		// Routes stay thin: SQL lives in the server modules, so no route reaches the pool itself.
		files: ['src/routes/**'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					paths: [
						{
							name: '$lib/server/db',
							message: 'Routes do not talk to the database: call a module in src/lib/server.'
						}
					],
					patterns: [
						{
							regex: '(^|/)lib/server/db(\\.(js|ts))?$',
							message: 'Routes do not talk to the database: call a module in src/lib/server.'
						}
					]
				}
			]
		}
	},
	{
		// The layers (eslint/layers.js, drawn in the README's layout block): nothing imports upward.
		files: ['src/**'],
		plugins: { layers },
		rules: { 'layers/no-upward-import': 'error' }
	},
	{ ignores: ['build/', '.svelte-kit/', 'node_modules/', 'data/', 'test-results/'] }
);
