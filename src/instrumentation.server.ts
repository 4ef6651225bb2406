// Loaded by `node build` before any other server code (adapter-node's own environment parsing
// included): a bad environment variable or a taken port ends the start here, in one line each,
// before the database starts.
import { dev } from '$app/environment';
import { preflightOrExit } from '$lib/server/plain/preflight.js';

await preflightOrExit(process.env, { checkPort: !dev });
