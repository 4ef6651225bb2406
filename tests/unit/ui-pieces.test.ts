// The shared UI pieces (issue 23, point 4) render what the hand-written markup they replaced did:
// the same attributes, labels and roles in every busy state. Rendered with Svelte's server
// renderer, hydration markers stripped; `post()` against a real HTTP server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { render } from 'svelte/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Busy } from '../../src/lib/busy.svelte';
import BusyButton from '../../src/lib/components/BusyButton.svelte';
import FormMessage from '../../src/lib/components/FormMessage.svelte';
import { post } from '../../src/lib/post';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each component's own props
function html(component: any, props: Record<string, unknown>): string {
	return render(component, { props })
		.body.replace(/<!--[^>]*-->/g, '')
		.trim();
}

function busy(pending: boolean, action: string | null = null): Busy {
	const b = new Busy();
	b.pending = pending;
	b.action = action;
	return b;
}

describe('BusyButton', () => {
	const save = { class: 'btn', label: 'Save', pendingLabel: 'Saving…' };

	it('idle: enabled, not busy, its label', () => {
		expect(html(BusyButton, { ...save, busy: busy(false) })).toBe(
			'<button class="btn" type="submit" aria-busy="false">Save</button>'
		);
	});

	it('while its form runs: disabled, busy, the pending label', () => {
		expect(html(BusyButton, { ...save, busy: busy(true, 'save') })).toBe(
			'<button class="btn" type="submit" disabled="" aria-busy="true">Saving…</button>'
		);
	});

	it('with several buttons: all disabled, only the pressed one busy', () => {
		const running = busy(true, 'testDiscovery');
		const test = { class: 'btn', label: 'Test Discovery', pendingLabel: 'Testing…' };
		expect(html(BusyButton, { ...test, busy: running, action: 'testDiscovery' })).toBe(
			'<button class="btn" type="submit" disabled="" aria-busy="true">Testing…</button>'
		);
		expect(html(BusyButton, { ...save, busy: running, action: 'saveConnection' })).toBe(
			'<button class="btn" type="submit" disabled="" aria-busy="false">Save</button>'
		);
	});

	it('without a pending label keeps its label while busy', () => {
		expect(html(BusyButton, { class: 'btn', label: 'New secret', busy: busy(true) })).toBe(
			'<button class="btn" type="submit" disabled="" aria-busy="true">New secret</button>'
		);
	});

	it('takes a plain flag, and its own disabled adds to it', () => {
		expect(html(BusyButton, { ...save, busy: true })).toBe(
			'<button class="btn" type="submit" disabled="" aria-busy="true">Saving…</button>'
		);
		expect(html(BusyButton, { ...save, busy: false, disabled: true })).toBe(
			'<button class="btn" type="submit" disabled="" aria-busy="false">Save</button>'
		);
	});

	it('passes other attributes through and adds words for screen readers', () => {
		expect(
			html(BusyButton, {
				...save,
				busy: false,
				type: 'button',
				formaction: '?/delete',
				'aria-describedby': 'why',
				srDetail: 'row 1'
			})
		).toBe(
			'<button class="btn" formaction="?/delete" aria-describedby="why" type="button" aria-busy="false">Save<span class="sr-only">row 1</span></button>'
		);
	});
});

describe('FormMessage', () => {
	const success = 'border-emerald-700 bg-emerald-950/60 text-emerald-200';
	const error = 'border-red-700 bg-red-950/60 text-red-200';
	const warning = 'border-amber-600 bg-amber-950/60 text-amber-200';
	const banner = (tone: string, role: string, text: string) =>
		`<div class="rounded-md border px-4 py-3 text-sm ${tone}" role="${role}">${text}</div>`;

	it('shows nothing without an answer or a message', () => {
		expect(html(FormMessage, {})).toBe('');
		expect(html(FormMessage, { answer: null })).toBe('');
		expect(html(FormMessage, { answer: { ok: false, values: {}, errors: { a: 'b' } } })).toBe('');
	});

	it('green status when ok, red alert otherwise (no `ok` at all counts as an error)', () => {
		expect(html(FormMessage, { answer: { ok: true, message: 'Saved.' } })).toBe(
			banner(success, 'status', 'Saved.')
		);
		expect(html(FormMessage, { answer: { ok: false, message: 'No.' } })).toBe(
			banner(error, 'alert', 'No.')
		);
		expect(html(FormMessage, { answer: { username: 'a', message: 'Wrong.' } })).toBe(
			banner(error, 'alert', 'Wrong.')
		);
	});

	it('a warning follows the message', () => {
		expect(html(FormMessage, { answer: { ok: true, message: 'Saved.', warning: 'But.' } })).toBe(
			banner(success, 'status', 'Saved.') + ' ' + banner(warning, 'alert', 'But.')
		);
	});
});

describe('post()', () => {
	let server: http.Server;
	let base: string;
	const seen: { method?: string; type?: string; accept?: string; body: string }[] = [];

	beforeAll(async () => {
		server = http.createServer((req, res) => {
			let body = '';
			req.on('data', (chunk) => (body += chunk));
			req.on('end', () => {
				seen.push({
					method: req.method,
					type: req.headers['content-type'],
					accept: req.headers.accept,
					body
				});
				if (req.url === '/json') {
					res.writeHead(409, { 'content-type': 'application/json' });
					res.end(JSON.stringify({ message: 'Refused.', field: 'name' }));
				} else {
					res.writeHead(502, { 'content-type': 'text/html' });
					res.end('<h1>Bad gateway</h1>');
				}
			});
		});
		await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((done) => server.close(() => done())));

	it('posts the fields form-encoded, asks for JSON, gives back the status and the JSON', async () => {
		const answer = await post(`${base}/json`, { name: 'Laptop', response: '{"a":1}' });
		expect(answer).toEqual({ ok: false, body: { message: 'Refused.', field: 'name' } });
		expect(seen.at(-1)).toEqual({
			method: 'POST',
			type: 'application/x-www-form-urlencoded;charset=UTF-8',
			accept: 'application/json',
			body: 'name=Laptop&response=%7B%22a%22%3A1%7D'
		});
	});

	it('turns an answer that is not JSON into a message naming the status', async () => {
		expect(await post(`${base}/html`, {})).toEqual({
			ok: false,
			body: { message: 'The server answered 502.' }
		});
	});
});
