// The browser side of the JSON endpoints that WebAuthn needs (options, then the signed answer):
// a form-encoded POST that asks for JSON. An answer that is not JSON (a proxy's error page, say)
// becomes a message that names the status, so callers can always show `body.message`.

export type PostAnswer = {
	ok: boolean;
	// The endpoint's own JSON: WebAuthn options, or { message, field?, stepUp?, location? }.
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- res.json()'s own type
	body: any;
};

export async function post(path: string, fields: Record<string, string>): Promise<PostAnswer> {
	const res = await fetch(path, {
		method: 'POST',
		body: new URLSearchParams(fields),
		headers: { accept: 'application/json' }
	});
	const body = await res.json().catch(() => ({ message: `The server answered ${res.status}.` }));
	return { ok: res.ok, body };
}
