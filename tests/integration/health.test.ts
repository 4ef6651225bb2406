import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browser, freshDatabase, insertAdmin } from '../helpers/app';
import { freePort } from '../helpers/pg.js';
import { startServer } from '../helpers/server.js';

// The app reaches PostgreSQL through this TCP relay, so the test can cut the line (refuse and
// drop every connection) and restore it, the way a database container restart looks to the app.
function relay(target: URL, port: number) {
	const sockets = new Set<net.Socket>();
	let server: net.Server | null = null;
	const open = () =>
		new Promise<void>((resolve) => {
			server = net.createServer((client) => {
				const upstream = net.connect(Number(target.port), target.hostname);
				for (const s of [client, upstream]) {
					sockets.add(s);
					s.on('close', () => sockets.delete(s));
					s.on('error', () => {});
				}
				client.pipe(upstream).pipe(client);
			});
			server.listen(port, '127.0.0.1', resolve);
		});
	const cut = () =>
		new Promise<void>((resolve) => {
			for (const s of sockets) s.destroy();
			server?.close(() => resolve());
		});
	return { open, cut };
}

describe('database outage', () => {
	let db: Awaited<ReturnType<typeof freshDatabase>>;
	let line: ReturnType<typeof relay>;
	let app: Awaited<ReturnType<typeof startServer>>;

	beforeAll(async () => {
		db = await freshDatabase();
		await insertAdmin(db.sql);
		const target = new URL(db.url);
		const port = await freePort();
		line = relay(target, port);
		await line.open();
		const viaRelay = new URL(db.url);
		viaRelay.hostname = '127.0.0.1';
		viaRelay.port = String(port);
		app = await startServer({ databaseUrl: viaRelay.toString() });
	});
	afterAll(async () => {
		await app?.stop();
		await line?.cut();
		await db?.sql.end();
	});

	test('health is 503 and pages are a plain error while the database is down, and both recover', async () => {
		const b = browser(app.url);
		expect((await b.signIn()).status).toBe(303);
		expect((await fetch(`${app.url}/healthz`)).status).toBe(200);

		await line.cut();
		const health = await fetch(`${app.url}/healthz`);
		expect(health.status).toBe(503);
		expect(await health.json()).toEqual({ status: 'database unavailable' });
		const page = await b.get('/');
		expect(page.status).toBe(503);
		const html = await page.text();
		expect(html).toContain("Librariarr can't reach its database");
		expect(html).not.toMatch(/at .*\.js:\d+/); // no stack trace

		await line.open();
		let recovered = 0;
		for (let i = 0; i < 50 && recovered !== 200; i++) {
			recovered = (await fetch(`${app.url}/healthz`)).status;
			if (recovered !== 200) await new Promise((r) => setTimeout(r, 200));
		}
		expect(recovered).toBe(200);
		expect((await b.get('/')).status).toBe(200); // the same session still works
	});
});
