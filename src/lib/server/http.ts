// Outbound HTTP to identity providers, plex.tv and alert channels: every call has a deadline and a size cap, so a
// slow or hostile server can neither hang a request nor fill memory.
export class HttpError extends Error {
	/** The address being fetched, when known (for messages that name it). */
	readonly url: string | null;
	/** The deadline that ran out, for a timeout. */
	readonly timeoutMs: number | null;
	constructor(
		message: string,
		readonly status: number | null = null,
		context: { url?: string | null; timeoutMs?: number | null; cause?: unknown } = {}
	) {
		super(message, { cause: context.cause });
		this.url = context.url ?? null;
		this.timeoutMs = context.timeoutMs ?? null;
	}
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const MAX_BODY_BYTES = 512 * 1024;

async function readCapped(res: Response, maxBytes: number): Promise<string> {
	const reader = res.body?.getReader();
	if (!reader) return '';
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > maxBytes) {
			await reader.cancel();
			throw new HttpError(`response larger than ${maxBytes} bytes`, res.status);
		}
		chunks.push(value);
	}
	return Buffer.concat(chunks).toString('utf8');
}

export type FetchLimits = {
	timeoutMs?: number;
	maxBytes?: number;
	/** How many redirects to follow (GET only, never from https to http); 0 refuses any. */
	maxRedirects?: number;
};

/**
 * fetch() with a deadline covering the whole body and every redirect, a size cap, and no redirect
 * unless asked for. The answer is a fully read Response, so a library handed this function (jose's
 * JWKS fetch) is protected too. `Response.url` is not settable, so the final address of a followed
 * redirect is left out; nothing here needs it.
 */
export async function cappedFetch(
	url: string | URL | Request,
	init: RequestInit = {},
	{ timeoutMs = DEFAULT_TIMEOUT_MS, maxBytes = MAX_BODY_BYTES, maxRedirects = 0 }: FetchLimits = {}
): Promise<Response> {
	const first = url instanceof Request ? url.url : url;
	let target = new URL(first);
	const signal = AbortSignal.timeout(timeoutMs);
	try {
		for (let hop = 0; ; hop++) {
			const res = await fetch(hop === 0 ? url : target, {
				...init,
				redirect: maxRedirects > 0 ? 'manual' : 'error',
				signal
			});
			const location = res.headers.get('location');
			if (maxRedirects > 0 && res.status >= 300 && res.status < 400 && location) {
				await res.body?.cancel();
				if (hop >= maxRedirects)
					throw new HttpError(`more than ${maxRedirects} redirects from ${target.origin}`);
				const next = new URL(location, target);
				if (next.protocol !== 'https:' && next.protocol !== 'http:')
					throw new HttpError(`redirect from ${target.origin} to a non-HTTP address`);
				if (target.protocol === 'https:' && next.protocol !== 'https:')
					throw new HttpError(`redirect from ${target.origin} to plain http refused`);
				target = next;
				continue;
			}
			const text = await readCapped(res, maxBytes);
			// 204, 205 and 304 carry no body, and Response refuses one for them (Discord answers 204).
			const noBody = [204, 205, 304].includes(res.status);
			return new Response(noBody ? null : text, { status: res.status, headers: res.headers });
		}
	} catch (error) {
		if (error instanceof HttpError) throw error;
		const reason =
			(error as Error).name === 'TimeoutError'
				? `no answer within ${timeoutMs / 1000} s`
				: (error as Error).message;
		// The original error stays as the cause: provider-failure.ts reads its code.
		throw new HttpError(`request to ${target.origin} failed: ${reason}`, null, {
			url: target.href,
			timeoutMs,
			cause: error
		});
	}
}

/** Fetches JSON with a deadline and a size cap. Non-2xx answers throw an HttpError with the status. */
export async function fetchJson(
	url: string | URL,
	init: RequestInit = {},
	limits: FetchLimits = {}
): Promise<unknown> {
	const res = await cappedFetch(url, init, limits);
	const href = String(url);
	if (!res.ok) throw new HttpError(`HTTP ${res.status}`, res.status, { url: href });
	return parseJson(await res.text(), res.status, href);
}

export function parseJson(text: string, status: number | null = null, url?: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		throw new HttpError('response is not valid JSON', status, { url });
	}
}
