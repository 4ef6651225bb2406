import { fail } from '@sveltejs/kit';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import {
	addChannel,
	CHANNEL_KINDS,
	CHANNEL_WORDS,
	listChannels,
	MAX_CHANNELS,
	readChannelForm,
	removeChannel,
	sendTest
} from '$lib/server/alerts/channels';
import { ALERT_KINDS, KIND_WORDS } from '$lib/server/alerts/events';
import { alertKindsOn, deliveryState, saveAlertKinds } from '$lib/server/alerts/switches';
import { readForm } from '$lib/server/form';
import { formFields } from '$lib/schemas/fields';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	requireUser(event);
	const [channels, kindsOn, state] = await Promise.all([
		listChannels(),
		alertKindsOn(),
		deliveryState()
	]);
	return {
		channels: channels.map((c) => ({ ...c, lastAt: c.lastAt?.toISOString() ?? null })),
		channelKinds: CHANNEL_KINDS.map((kind) => ({ kind, label: CHANNEL_WORDS[kind] })),
		kinds: ALERT_KINDS.map((kind) => ({
			kind,
			label: KIND_WORDS[kind].label,
			on: kindsOn.includes(kind)
		})),
		failed: state.failed.map((f) => ({ ...f, doneAt: f.doneAt.toISOString() })),
		waiting: state.waiting,
		maxChannels: MAX_CHANNELS
	};
};

/** A channel id from the form, or null for anything that is not one. */
function channelId(value: string): number | null {
	return /^[0-9]{1,9}$/.test(value) ? Number(value) : null;
}

export const actions = {
	add: async (event) => {
		const { user } = requireUser(event);
		const form = formFields(await readForm(event.request), [
			'kind',
			'name',
			'url',
			'topic',
			'token',
			'secret'
		] as const);
		const values = { kind: form.kind, name: form.name, url: form.url, topic: form.topic };
		const read = readChannelForm(form);
		if ('problems' in read) {
			return fail(400, {
				add: { ok: false, message: 'The channel was not added.', errors: read.problems, values }
			});
		}
		if (!(await addChannel(read.name, read.settings))) {
			return fail(409, {
				add: {
					ok: false,
					message: `There are ${MAX_CHANNELS} channels already: remove one first.`,
					errors: {},
					values
				}
			});
		}
		await audit({
			event: 'alerts.channel_added',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { kind: read.settings.kind }
		});
		return { add: { ok: true, message: `Channel “${read.name}” added.` } };
	},

	remove: async (event) => {
		const { user } = requireUser(event);
		const id = channelId(formFields(await readForm(event.request), ['channel'] as const).channel);
		if (id === null || !(await removeChannel(id))) {
			return fail(404, { channel: { id, ok: false, message: 'There is no such channel.' } });
		}
		await audit({ event: 'alerts.channel_removed', userId: user.id, ip: event.locals.client.ip });
		return { removed: { ok: true, message: 'Channel removed.' } };
	},

	test: async (event) => {
		requireUser(event);
		const id = channelId(formFields(await readForm(event.request), ['channel'] as const).channel);
		const delivery = id === null ? null : await sendTest(id);
		if (!delivery) {
			return fail(404, { channel: { id, ok: false, message: 'There is no such channel.' } });
		}
		const message = delivery.ok
			? `Test sent. The answer: ${delivery.answer}`
			: `Test not delivered: ${delivery.answer}`;
		return { channel: { id, ok: delivery.ok, message } };
	},

	events: async (event) => {
		const { user } = requireUser(event);
		const form = await readForm(event.request);
		const values = form.getAll('events').filter((v): v is string => typeof v === 'string');
		const on = await saveAlertKinds(values);
		await audit({
			event: 'alerts.events_changed',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { on: on.join(',') }
		});
		return { events: { ok: true, message: 'Saved.' } };
	}
} satisfies Actions;
