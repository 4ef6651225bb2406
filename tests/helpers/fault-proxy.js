// A TCP relay in front of PostgreSQL that can misbehave on demand, the way a database looks to
// the app when it is frozen, restarted or gone:
//   pause()  the database is frozen: connections stay open, nothing moves either way (new
//            connections are accepted and held too) until resume();
//   reset()  every open connection is torn down with a TCP reset (a crash); new ones still work;
//   cut()    reset, and the port refuses new connections (the database is down) until open().
// Plain JS so that the integration tests and the benchmark can both use it.
import net from 'node:net';

/**
 * @param {string} databaseUrl the real database; the relay listens on a free port of 127.0.0.1
 * @returns {Promise<{ url: string, pause: () => void, resume: () => void, reset: () => void,
 *   cut: () => Promise<void>, open: () => Promise<void>, stop: () => Promise<void>,
 *   connections: () => number }>}
 */
export async function startFaultProxy(databaseUrl) {
	const target = new URL(databaseUrl);
	/** @type {Set<net.Socket>} */
	const sockets = new Set();
	let paused = false;
	let port = 0;
	/** @type {net.Server | null} */
	let server = null;

	/** @param {net.Socket} socket */
	function track(socket) {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => {});
		if (paused) socket.pause();
	}

	/** @param {net.Socket} client */
	function relay(client) {
		track(client);
		const upstream = net.connect(Number(target.port || 5432), target.hostname);
		track(upstream);
		// No pipe(): its flow control would resume a socket that pause() stopped.
		client.on('data', (chunk) => upstream.write(chunk));
		upstream.on('data', (chunk) => client.write(chunk));
		client.on('end', () => upstream.end());
		upstream.on('end', () => client.end());
		client.on('close', () => upstream.destroy());
		upstream.on('close', () => client.destroy());
	}

	const listen = () =>
		new Promise((resolve, reject) => {
			server = net.createServer(relay);
			server.once('error', reject);
			server.listen(port, '127.0.0.1', () => {
				const address = server?.address();
				if (address && typeof address === 'object') port = address.port;
				resolve(undefined);
			});
		});

	function reset() {
		for (const socket of sockets) socket.resetAndDestroy();
	}

	await listen();
	const url = new URL(databaseUrl);
	url.hostname = '127.0.0.1';
	url.port = String(port);

	return {
		url: url.toString(),
		pause() {
			paused = true;
			for (const socket of sockets) socket.pause();
		},
		resume() {
			paused = false;
			for (const socket of sockets) socket.resume();
		},
		reset,
		async cut() {
			reset();
			const closing = server;
			server = null;
			if (closing) await new Promise((resolve) => closing.close(() => resolve(undefined)));
		},
		async open() {
			if (!server) await listen();
		},
		async stop() {
			paused = false;
			reset();
			const closing = server;
			server = null;
			if (closing) await new Promise((resolve) => closing.close(() => resolve(undefined)));
		},
		connections: () => sockets.size / 2
	};
}
