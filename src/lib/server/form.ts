// Reading a form body that anyone can send. Every form action and every endpoint that takes a
// body reads it through readForm, so that a client's mistake (wrong content type, a multipart
// body without its boundary, a body that is not form data at all, or one that is too large)
// ends in 415, 400 or 413 with a clear message, never in a 500.
import { error } from '@sveltejs/kit';
import { log } from './log';

/** Ordinary forms: the longest (the SSO connection settings) is a few kilobytes. */
export const FORM_MAX_BYTES = 64 * 1024;

const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

function refuse(status: 400 | 413 | 415, message: string, request: Request): never {
	log.warn('Form refused', {
		status,
		reason: message,
		path: new URL(request.url).pathname,
		contentType: request.headers.get('content-type')?.slice(0, 100) ?? '(none)'
	});
	error(status, message);
}

/**
 * The request's form data, or an error response: 415 for anything but urlencoded or multipart
 * form data, 413 above `maxBytes` (checked while reading, whatever Content-Length says), 400 when
 * the body cannot be parsed as the form it claims to be.
 */
export async function readForm(
	request: Request,
	maxBytes = FORM_MAX_BYTES,
	tooLarge = `The form is larger than ${formatBytes(maxBytes)}.`
): Promise<FormData> {
	const type = request.headers.get('content-type') ?? '';
	const essence = type.split(';', 1)[0].trim().toLowerCase();
	if (!FORM_TYPES.includes(essence)) {
		refuse(
			415,
			'This address takes form data (application/x-www-form-urlencoded or multipart/form-data).',
			request
		);
	}
	if (essence === 'multipart/form-data' && !/;\s*boundary=/i.test(type)) {
		refuse(400, 'The multipart form data has no boundary.', request);
	}
	const declared = Number(request.headers.get('content-length') ?? '0');
	if (declared > maxBytes) refuse(413, tooLarge, request);

	const chunks: Uint8Array[] = [];
	let size = 0;
	try {
		if (request.body) {
			for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
				size += chunk.length;
				if (size > maxBytes) break;
				chunks.push(chunk);
			}
		}
	} catch (err) {
		// adapter-node's BODY_SIZE_LIMIT (which may be lower than maxBytes) ends the stream with a
		// 413 of its own, whose message names that limit.
		if ((err as { status?: number })?.status === 413) {
			refuse(413, (err as Error).message || tooLarge, request);
		}
		refuse(400, 'The form data could not be read.', request);
	}
	if (size > maxBytes) refuse(413, tooLarge, request);
	try {
		return await new Response(Buffer.concat(chunks), {
			headers: { 'content-type': type }
		}).formData();
	} catch {
		refuse(400, 'The form data could not be read.', request);
	}
}

function formatBytes(bytes: number) {
	return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MB` : `${bytes / 1024} KB`;
}
