import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

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
	{ ignores: ['build/', '.svelte-kit/', 'node_modules/', 'data/', 'test-results/'] }
);
