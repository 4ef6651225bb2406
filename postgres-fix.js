// A build-time fix for one defect of postgres.js 3.4.x (upstream issues porsager/postgres#1154
// and #1208, not fixed in any 3.x release): when PostgreSQL ends a connection in the middle of a
// transaction (a backend terminated, the server stopped or crashed), the transaction's ROLLBACK
// is sent after the connection is gone. That write either runs on the socket postgres.js has
// already set to null, an uncaught TypeError that ends the whole process ("Cannot read properties
// of null (reading 'write')"), or it stays buffered, and the connection's next start sends no
// startup packet: it hangs until its connect timeout, and every request given to it fails. Its
// FATAL message ("terminating connection due to administrator command") is kept as well, and
// fails the first query of the connection's next start.
//
// The app bundles postgres.js (vite.config.ts, ssr.noExternal) and this plugin makes four small
// edits to its connection.js:
//   - a query given to a connection whose socket is gone or has failed is refused with
//     CONNECTION_CLOSED (the late ROLLBACK; a query handed over between the socket's error and
//     its close, which postgres.js never settled, so it and its request waited forever);
//   - a query still pending when the socket closes with an error is settled the same way;
//   - a buffered write that finds no socket settles its queries instead of throwing;
//   - a closed connection forgets the bytes buffered for the old socket and the error it ended
//     with.
// Each edit must match exactly once, so an upgrade of postgres.js fails the build here instead
// of shipping unfixed.

const EDITS = [
	{
		// A query on a connection whose socket is gone or failed (a late ROLLBACK; a query handed
		// to a connection between its socket's error and its close): refuse it. `true` keeps the
		// pool from filing the closed connection as full.
		find: `    if (terminated)
      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))
`,
		add: `    if (!socket || socket.destroyed)
      return queryError(q, Errors.connection('CONNECTION_CLOSED', options)), true
`
	},
	{
		find: `  function nextWrite(fn) {
`,
		add: `    if (!socket) {
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return true
    }
`
	},
	{
		find: `    clearImmediate(nextWriteTimer)
    socket.removeListener('data', data)
    socket.removeListener('connect', connected)
    idleTimer.cancel()
`,
		// Nothing of the old socket may reach the new one: neither bytes buffered for it nor the
		// error it ended with (a FATAL that would otherwise fail the next start's first query).
		add: `    chunk = nextWriteTimer = errorResponse = null
`
	},
	{
		// A socket that closed with an error: postgres.js settled only what was pending at the
		// error, and a query given to the connection after it waited forever.
		find: `    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
`,
		add: `    hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options))
`
	}
];

/** @returns {import('vite').Plugin} */
export function postgresClosedSocketFix() {
	return {
		name: 'librariarr:postgres-closed-socket-fix',
		enforce: 'pre',
		transform(code, id) {
			if (!/[\\/]node_modules[\\/]postgres[\\/]src[\\/]connection\.js$/.test(id)) return null;
			let fixed = code;
			for (const { find, add } of EDITS) {
				const at = fixed.indexOf(find);
				if (at === -1 || fixed.indexOf(find, at + 1) !== -1) {
					throw new Error(
						`postgres-fix.js: postgres.js's connection.js changed (${JSON.stringify(find.trim().split('\n')[0])} is not there exactly once). Check whether the upgrade fixes the closed-socket write, then update or remove this fix.`
					);
				}
				fixed = fixed.slice(0, at + find.length) + add + fixed.slice(at + find.length);
			}
			return { code: fixed, map: null };
		}
	};
}
