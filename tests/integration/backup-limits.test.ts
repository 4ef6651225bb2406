// Hostile backup files against the first-run restore page of the built server: files that are
// small on the wire and enormous once decompressed or parsed. Each is refused while the server
// keeps answering /healthz within a second and its memory stays within a few times the caps.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants, createGzip } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { LIMITS } from '../../src/lib/server/backup/format';
import { startApp, type App } from '../helpers/app';

let app: App;
let configDir: string;

beforeAll(async () => {
	configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'librariarr-backup-limits-'));
	app = await startApp({ CONFIG_DIR: configDir, BODY_SIZE_LIMIT: '60M' });
});
afterAll(async () => {
	await app?.stop();
	fs.rmSync(configDir, { recursive: true, force: true });
});
beforeEach(async () => {
	// Each file is tried on a fresh instance's first-run page; the per-address restore limit is
	// tested on its own below.
	await app.sql`delete from "Throttle"`;
});

const HEADER =
	'{"format":"librariarr-backup","version":1,"createdAt":"2026-12-01T00:00:00Z","migrations":[],"secrets":"omitted","tables":';

/** gzip of head + repeat × count + tail, built as a stream so the test never holds it whole. */
async function bomb(head: string, repeat: string, count: number, tail: string): Promise<Buffer> {
	const gz = createGzip({ level: constants.Z_BEST_COMPRESSION });
	const out: Buffer[] = [];
	gz.on('data', (c: Buffer) => out.push(c));
	const done = new Promise((resolve) => gz.on('end', resolve));
	gz.write(head);
	const block = Buffer.from(repeat.repeat(Math.max(1, Math.floor((1 << 20) / repeat.length))));
	const perBlock = block.length / repeat.length;
	let left = count;
	while (left >= perBlock) {
		if (!gz.write(block)) await new Promise((r) => gz.once('drain', r));
		left -= perBlock;
	}
	gz.write(repeat.repeat(left));
	gz.end(tail);
	await done;
	return Buffer.concat(out);
}

function rssBytes(pid: number): number {
	const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
	return kb ? Number(kb[1]) * 1024 : 0;
}

/**
 * Uploads `file` to the first-run restore page while /healthz is polled and the server's RSS is
 * sampled. A server that goes past `rssLimit` is killed (so that the old behaviour, gigabytes of
 * memory, cannot take the machine down) and the test fails.
 */
async function uploadWatched(file: Buffer, rssLimit: number) {
	const baseline = rssBytes(app.pid);
	let maxRss = baseline;
	let killed = false;
	const slowHealth: string[] = [];
	let finished = false;

	const watcher = (async () => {
		while (!finished) {
			const rss = rssBytes(app.pid);
			maxRss = Math.max(maxRss, rss);
			if (rss > baseline + rssLimit && !killed) {
				killed = true;
				process.kill(app.pid, 'SIGKILL');
			}
			await new Promise((r) => setTimeout(r, 50));
		}
	})();
	const health = (async () => {
		while (!finished && !killed) {
			const started = Date.now();
			try {
				const res = await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(1000) });
				if (res.status !== 200) slowHealth.push(`status ${res.status}`);
			} catch (error) {
				slowHealth.push(`${String(error)} after ${Date.now() - started} ms`);
			}
			await new Promise((r) => setTimeout(r, 200));
		}
	})();

	const form = new FormData();
	form.append('file', new Blob([new Uint8Array(file)]), 'backup.json.gz');
	let status = 0;
	let text = '';
	try {
		const res = await fetch(`${app.url}/setup/restore`, {
			method: 'POST',
			headers: { origin: app.url, accept: 'text/html' },
			body: form,
			redirect: 'manual',
			signal: AbortSignal.timeout(60_000)
		});
		status = res.status;
		text = await res.text();
	} catch (error) {
		text = String(error);
	}
	finished = true;
	await Promise.all([watcher, health]);
	return { status, text, baseline, maxRss, killed, slowHealth };
}

const MiB = 1024 * 1024;
// "A few times the cap": the server may hold the upload, the decompressed bytes in flight and
// the parsed rows, but never more than this above what it used before the upload.
const RSS_LIMIT = 4 * LIMITS.decompressedBytes;

describe('a backup upload that is tiny on the wire but huge inside', () => {
	const shapes: [string, () => Promise<Buffer>][] = [
		// 80 million empty rows: 240 MB of JSON, fits the old 256 MiB cap, about 250 KB gzipped.
		['millions of tiny rows', () => bomb(`${HEADER}{"AuditEvent":[`, '{},', 80_000_000, '{}]}}')],
		[
			'millions of tiny values inside one row',
			() => bomb(`${HEADER}{"User":[{"x":[`, '0,', 100_000_000, '0]}]}}')
		],
		['deep nesting', () => bomb(`${HEADER}{"User":[{"x":`, '[', 50_000_000, '')],
		['one enormous string', () => bomb(`${HEADER}{"User":[{"x":"`, 'a', 200_000_000, '"}]}}')],
		['a sea of whitespace', () => bomb(HEADER, ' ', 300_000_000, '{}}')]
	];
	for (const [name, make] of shapes) {
		test(`${name}: refused with 413 while /healthz answers within a second and memory stays bounded`, async () => {
			const file = await make();
			expect(file.length).toBeLessThan(400 * 1024);
			const result = await uploadWatched(file, RSS_LIMIT);
			expect(result.killed, `server RSS reached ${Math.round(result.maxRss / MiB)} MiB`).toBe(
				false
			);
			expect(result.slowHealth).toEqual([]);
			expect(result.status, result.text.slice(0, 300)).toBe(413);
			expect(result.text).toContain('larger than a Librariarr backup can be');
			expect(result.maxRss - result.baseline).toBeLessThan(RSS_LIMIT);
			// Refused with a warning, never an error with a stack trace.
			expect(app.logs()).not.toMatch(/ ERROR /);
			const [{ count }] = await app.sql<{ count: number }[]>`select count(*)::int from "User"`;
			expect(count).toBe(0);
		}, 120_000);
	}
});

describe('first-run restore attempts are limited per address', () => {
	test('after the limit, further attempts get 429 and say when to retry', async () => {
		const junk = Buffer.from('not a backup at all');
		const statuses: number[] = [];
		let last = '';
		for (let i = 0; i < 12; i++) {
			const form = new FormData();
			form.append('file', new Blob([new Uint8Array(junk)]), 'x.json.gz');
			const res = await fetch(`${app.url}/setup/restore`, {
				method: 'POST',
				headers: { origin: app.url, accept: 'text/html' },
				body: form,
				redirect: 'manual'
			});
			statuses.push(res.status);
			last = await res.text();
		}
		expect(statuses.slice(0, 10)).toEqual(Array(10).fill(400));
		expect(statuses.slice(10)).toEqual([429, 429]);
		expect(last).toMatch(/Too many restore attempts.*Try again in \d+ minutes?/);
	});
});
