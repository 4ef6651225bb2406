import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter(),
		// Kit's own origin check compares against a URL built from the Host header, which is wrong
		// behind a TLS-terminating proxy. The `client` handle in hooks.server.ts does the same check
		// against the public origin it derives (ORIGIN, or a trusted proxy's X-Forwarded-*).
		csrf: { trustedOrigins: ['*'] },
		// src/instrumentation.server.ts runs before any other server code of `node build`: it checks
		// the environment and the port before adapter-node or the app read them.
		experimental: { instrumentation: { server: true } }
	}
};
