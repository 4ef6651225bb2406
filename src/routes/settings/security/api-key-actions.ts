// Settings → Security, "API keys": listing, making (behind step-up: a key is a lasting credential,
// even though it reaches /api/v1 only), renaming and revoking. Plain form actions: all of it works
// without JavaScript. The work is in $lib/server/auth/api-keys.ts.
import { fail, type RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import { audit } from '$lib/server/audit';
import { readForm } from '$lib/server/form';
import { requireUser } from '$lib/server/auth/guard';
import {
	createApiKey,
	listApiKeys,
	MAX_KEYS,
	renameApiKey,
	revokeApiKey
} from '$lib/server/auth/api-keys';
import { requireStepUp } from '$lib/server/auth/step-up';
import { createApiKeyFields, renameApiKeyFields, revokeApiKeyFields } from '$lib/schemas/api-keys';

export async function loadApiKeys(event: Pick<RequestEvent, 'locals'>) {
	const { user } = requireUser(event);
	const now = Date.now();
	return {
		max: MAX_KEYS,
		list: (await listApiKeys(user.id)).map((k) => ({
			id: k.id,
			name: k.name,
			prefix: k.prefix,
			scope: k.scope,
			createdAt: k.createdAt.toISOString(),
			expiresAt: k.expiresAt?.toISOString() ?? null,
			expired: k.expiresAt !== null && k.expiresAt.getTime() <= now,
			revokedAt: k.revokedAt?.toISOString() ?? null,
			lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
			lastAddress: k.lastAddress
		}))
	};
}

const refuse = (status: number, message: string) =>
	fail(status, { apiKeys: { ok: false, message } });

const fields = async (event: RequestEvent) => await readForm(event.request);

export const apiKeyActions = {
	apiKeyCreate: async (event: RequestEvent) => {
		const { user, session } = requireUser(event);
		const form = await fields(event);
		const proof = await requireStepUp(event, user, session, form);
		if (!proof.ok) {
			return fail(proof.status, { apiKeys: { ok: false, message: proof.message }, stepUp: proof });
		}
		const parsed = v.safeParse(createApiKeyFields, {
			name: form.get('name') ?? '',
			scope: form.get('scope') ?? '',
			expiry: form.get('expiry') ?? ''
		});
		if (!parsed.success) return refuse(400, parsed.issues[0].message);
		const { name, scope, expiry } = parsed.output;
		const made = await createApiKey(
			user.id,
			{ name, scope, expiresInDays: expiry },
			event.locals.client.ip
		);
		if (!made.ok) {
			return refuse(
				409,
				`You have ${MAX_KEYS} API keys, all in use. Revoke one you no longer need first.`
			);
		}
		return {
			apiKeys: {
				ok: true,
				message: `API key “${made.entry.name}” created. Copy it now: it is shown only this once.`,
				created: { key: made.key, name: made.entry.name, prefix: made.entry.prefix }
			}
		};
	},

	apiKeyRename: async (event: RequestEvent) => {
		const { user } = requireUser(event);
		const form = await fields(event);
		const parsed = v.safeParse(renameApiKeyFields, {
			key: form.get('key') ?? '',
			name: form.get('name') ?? ''
		});
		if (!parsed.success) return refuse(400, parsed.issues[0].message);
		if (!(await renameApiKey(user.id, parsed.output.key, parsed.output.name))) {
			return refuse(404, 'That key is not in your list any more.');
		}
		await audit({
			event: 'api_key.renamed',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { name: parsed.output.name }
		});
		return { apiKeys: { ok: true, message: `Renamed to “${parsed.output.name}”.` } };
	},

	apiKeyRevoke: async (event: RequestEvent) => {
		const { user } = requireUser(event);
		const form = await fields(event);
		const parsed = v.safeParse(revokeApiKeyFields, { key: form.get('key') ?? '' });
		if (!parsed.success) return refuse(400, parsed.issues[0].message);
		const result = await revokeApiKey(user.id, parsed.output.key, event.locals.client.ip);
		if (result === 'not_found') return refuse(404, 'That key is not in your list any more.');
		if (result === 'already') return refuse(409, 'That key was already revoked.');
		return { apiKeys: { ok: true, message: 'The key was revoked: it no longer works.' } };
	}
};
