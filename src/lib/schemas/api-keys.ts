// Settings → Security, "API keys": the create, rename and revoke forms.
import * as v from 'valibot';
import { textField } from './fields';

export const apiKeyName = v.pipe(
	textField,
	v.trim(),
	v.minLength(1, 'Name the key (what uses it, e.g. “Homepage”).'),
	v.maxLength(100, 'Keep the name under 100 characters.')
);

export const apiKeyId = v.pipe(
	v.string('Choose a key of this list.'),
	v.regex(/^[1-9]\d{0,9}$/, 'That is not a key of this list.'),
	v.transform(Number),
	v.maxValue(2147483647, 'That is not a key of this list.')
);

export const apiKeyScope = v.picklist(['read', 'full'], 'Choose “read” or “full”.');

export const apiKeyExpiry = v.pipe(
	v.picklist(['0', '30', '90', '365'], 'Choose when the key expires: never, 30, 90 or 365 days.'),
	v.transform(Number)
);

export const createApiKeyFields = v.object({
	name: apiKeyName,
	scope: apiKeyScope,
	expiry: apiKeyExpiry
});

export const renameApiKeyFields = v.object({ key: apiKeyId, name: apiKeyName });
export const revokeApiKeyFields = v.object({ key: apiKeyId });
