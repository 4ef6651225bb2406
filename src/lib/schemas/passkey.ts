// Passkey forms: the name a passkey is listed under, and the browser's WebAuthn response, which
// arrives as JSON in a form field. Only its shape is checked here; @simplewebauthn/server checks
// the rest.
import * as v from 'valibot';
import { textField } from './fields';

export const passkeyName = v.pipe(
	textField,
	v.trim(),
	v.minLength(1, 'Give the passkey a name.'),
	v.maxLength(64, 'Keep the name under 64 characters.')
);

export const passkeyId = v.pipe(
	v.string('Choose a passkey.'),
	v.regex(/^[1-9][0-9]{0,9}$/, 'That is not a passkey of this list.'),
	v.transform(Number),
	v.maxValue(2_147_483_647, 'That is not a passkey of this list.')
);

const webauthnResponse = v.looseObject({
	id: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
	rawId: v.pipe(v.string(), v.maxLength(1024)),
	type: v.literal('public-key'),
	response: v.looseObject({ clientDataJSON: v.pipe(v.string(), v.maxLength(8192)) }),
	clientExtensionResults: v.optional(v.record(v.string(), v.unknown()), {})
});

/** The `response` field: JSON of a PublicKeyCredential, as @simplewebauthn/browser returns it. */
export function parseWebauthnResponse<T>(raw: FormDataEntryValue | null): T | null {
	if (typeof raw !== 'string' || raw.length > 32 * 1024) return null;
	let value: unknown;
	try {
		value = JSON.parse(raw);
	} catch {
		return null;
	}
	const parsed = v.safeParse(webauthnResponse, value);
	return parsed.success ? (parsed.output as T) : null;
}
