// Outbound HTTP to identity providers and plex.tv: every call has a deadline and a size cap, so a
// slow or hostile server can neither hang a request nor fill memory.
export class HttpError extends Error {
	constructor(
		message: string,
		readonly status: number | null = null
	) {
		super(message);
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

/** Fetches JSON with a deadline and a size cap. Non-2xx answers throw an HttpError with the status. */
export async function fetchJson(
	url: string | URL,
	init: RequestInit = {},
	{ timeoutMs = DEFAULT_TIMEOUT_MS, maxBytes = MAX_BODY_BYTES } = {}
): Promise<unknown> {
	let res: Response;
	try {
		res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
	} catch (error) {
		const reason =
			(error as Error).name === 'TimeoutError'
				? `no answer within ${timeoutMs / 1000} s`
				: (error as Error).message;
		throw new HttpError(`request to ${new URL(url).origin} failed: ${reason}`);
	}
	if (!res.ok) {
		await res.body?.cancel().catch(() => {});
		throw new HttpError(`HTTP ${res.status}`, res.status);
	}
	const text = await readCapped(res, maxBytes);
	try {
		return JSON.parse(text);
	} catch {
		throw new HttpError('response is not valid JSON', res.status);
	}
}

/** Runs `work` with a deadline, for libraries that do not take an AbortSignal. */
export async function withDeadline<T>(
	work: Promise<T>,
	ms = DEFAULT_TIMEOUT_MS,
	what = 'request'
): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new HttpError(`${what}: no answer within ${ms / 1000} s`)), ms);
	});
	try {
		return await Promise.race([work, deadline]);
	} finally {
		clearTimeout(timer);
	}
}
