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
		// Kit puts a nonce on its own inline bootstrap script (mode auto). Inline style attributes
		// stay allowed: Kit's route announcer has one, and a style cannot run code. form-action is
		// widened at run time on the pages whose forms redirect to Plex or the identity provider
		// (src/lib/server/headers.ts).
		csp: {
			mode: 'auto',
			directives: {
				'default-src': ['self'],
				'script-src': ['self'],
				'style-src': ['self', 'unsafe-inline'],
				'img-src': ['self', 'data:'],
				'font-src': ['self'],
				'connect-src': ['self'],
				'object-src': ['none'],
				'base-uri': ['none'],
				'frame-ancestors': ['none'],
				'form-action': ['self']
			}
		},
		// src/instrumentation.server.ts runs before any other server code of `node build`: it checks
		// the environment and the port before adapter-node or the app read them.
		experimental: { instrumentation: { server: true } }
	}
};
