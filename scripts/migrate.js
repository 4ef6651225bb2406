#!/usr/bin/env node
// `npm run migrate`: applies the migrations in sql/ and exits. The app does the same at start-up;
// this is for running them on their own (before a rollout, or to check a database).
// With DATABASE_URL unset it uses the embedded PostgreSQL in CONFIG_DIR, as the app would.
import postgres from 'postgres';
import { embeddedConnection, startEmbeddedPostgres } from '../src/lib/server/plain/embedded-db.js';
import { secretValue } from '../src/lib/server/plain/env.js';
import { migrate } from '../src/lib/server/plain/migrate.js';

const given = secretValue(process.env, 'DATABASE_URL');
if (given.problem) {
	console.error(`Migration failed: ${given.problem}`);
	process.exit(1);
}
const url = given.value?.trim();
let stop = async () => {};
try {
	if (!url) stop = await startEmbeddedPostgres({ log: (m) => console.log(m) });
	const sql = url
		? postgres(url, { max: 1, onnotice: () => {} })
		: postgres({ ...embeddedConnection(), max: 1, onnotice: () => {} });
	try {
		const applied = await migrate(sql, { log: (m) => console.log(m) });
		console.log(
			applied.length ? `Done: ${applied.length} migration(s) applied.` : 'Database is up to date.'
		);
	} finally {
		await sql.end();
	}
} catch (error) {
	console.error(`Migration failed: ${error instanceof Error ? error.message : error}`);
	process.exitCode = 1;
} finally {
	await stop();
}
