// A TCP proxy in front of PostgreSQL that records every statement the app runs through it, by
// reading the client's side of the wire protocol: a simple Query ('Q') is one statement, and in
// the extended protocol each Execute ('E') runs the statement its Bind ('B') named, whose text
// came with its Parse ('P'). The server's bytes pass through untouched. For tests that count the
// round trips of a request (tests/integration/sign-in-round-trips.test.ts).
import net from 'node:net';

export type StatementLog = {
	/** A postgres:// URL that goes through the proxy. */
	url: string;
	/** Every statement executed so far, in order, across all connections. */
	statements: string[];
	/** Times a client waited for the server: each Sync and each simple Query. */
	roundTrips: () => number;
	stop: () => Promise<void>;
};

/** Splits one connection's client stream into messages and records executed statements. */
function recorder(record: (text: string) => void, waited: () => void) {
	let buffer = Buffer.alloc(0);
	let started = false; // after the startup message every message has a type byte
	const prepared = new Map<string, string>();
	let bound = '';
	const cString = (data: Buffer, from: number) => {
		const end = data.indexOf(0, from);
		return { text: data.toString('utf8', from, end), next: end + 1 };
	};
	return (chunk: Buffer) => {
		buffer = Buffer.concat([buffer, chunk]);
		for (;;) {
			if (!started) {
				if (buffer.length < 8) return;
				const length = buffer.readInt32BE(0);
				if (buffer.length < length) return;
				const code = buffer.readInt32BE(4);
				// SSLRequest and GSSENCRequest are followed by another untyped startup message.
				if (code !== 80877103 && code !== 80877104) started = true;
				buffer = buffer.subarray(length);
				continue;
			}
			if (buffer.length < 5) return;
			const type = String.fromCharCode(buffer[0]);
			const length = buffer.readInt32BE(1);
			if (buffer.length < 1 + length) return;
			const body = buffer.subarray(5, 1 + length);
			buffer = buffer.subarray(1 + length);
			if (type === 'Q') record(cString(body, 0).text);
			if (type === 'Q' || type === 'S') waited();
			if (type === 'P') {
				const name = cString(body, 0);
				prepared.set(name.text, cString(body, name.next).text);
			}
			if (type === 'B') bound = cString(body, cString(body, 0).next).text;
			if (type === 'E') record(prepared.get(bound) ?? '(unknown statement)');
		}
	};
}

export async function startStatementLog(databaseUrl: string): Promise<StatementLog> {
	const target = new URL(databaseUrl);
	const statements: string[] = [];
	let roundTrips = 0;
	const sockets = new Set<net.Socket>();
	const server = net.createServer((client) => {
		const upstream = net.connect(Number(target.port || 5432), target.hostname);
		sockets.add(client).add(upstream);
		const onData = recorder(
			(text) => statements.push(text.replace(/\s+/g, ' ').trim()),
			() => roundTrips++
		);
		client.on('data', (chunk) => {
			onData(chunk);
			upstream.write(chunk);
		});
		upstream.pipe(client);
		const close = () => {
			client.destroy();
			upstream.destroy();
			sockets.delete(client);
			sockets.delete(upstream);
		};
		client.on('close', close).on('error', close);
		upstream.on('close', close).on('error', close);
	});
	const port = await new Promise<number>((resolve) =>
		server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))
	);
	const url = new URL(databaseUrl);
	url.hostname = '127.0.0.1';
	url.port = String(port);
	return {
		url: url.toString(),
		statements,
		roundTrips: () => roundTrips,
		stop: async () => {
			for (const socket of sockets) socket.destroy();
			await new Promise((resolve) => server.close(resolve));
		}
	};
}
