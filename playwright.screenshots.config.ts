// `npm run screenshots`: the pages a new admin sees, photographed at desktop (1280×800) and phone
// (390×844) size into docs/screenshots/, for the README. Same servers as the e2e run (the global
// setup, ports and browser of playwright.config.ts); its own folder, so `npm test` never runs it.
// The pages are opened at http://localhost:<port>, the address a new admin types (and one where
// browsers allow passkeys), not at 127.0.0.1 as the e2e specs are.
import { defineConfig } from '@playwright/test';
import e2e from './playwright.config';

export default defineConfig({
	...e2e,
	testDir: 'tests/screenshots',
	reporter: [['list']],
	timeout: 60_000,
	use: {
		...e2e.use,
		baseURL: e2e.use?.baseURL?.replace('127.0.0.1', 'localhost'),
		javaScriptEnabled: true,
		deviceScaleFactor: 1,
		trace: 'off'
	},
	projects: [
		{ name: 'desktop', use: { viewport: { width: 1280, height: 800 } } },
		{
			name: 'phone',
			use: { viewport: { width: 390, height: 844 } }
		}
	]
});
