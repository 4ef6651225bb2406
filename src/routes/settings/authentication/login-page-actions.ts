// Settings → Authentication → Login page: the words on the SSO button.
import { fail, type RequestEvent } from '@sveltejs/kit';
import * as v from 'valibot';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { setSsoButtonText } from '$lib/server/auth/login-page';
import { readForm } from '$lib/server/form';
import { formFields } from '$lib/schemas/fields';
import { ssoButtonTextSchema } from '$lib/schemas/login-page';

export const loginPageActions = {
	ssoButtonText: async (event: RequestEvent) => {
		const { user } = requireUser(event);
		const form = formFields(await readForm(event.request), ['ssoButtonText'] as const);
		const parsed = v.safeParse(ssoButtonTextSchema, form);
		if (!parsed.success) {
			return fail(400, {
				loginPage: {
					ok: false,
					message: parsed.issues[0].message,
					value: form.ssoButtonText.slice(0, 100)
				}
			});
		}
		await setSsoButtonText(parsed.output.ssoButtonText);
		await audit({
			event: 'settings.sso_button_text',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { text: parsed.output.ssoButtonText }
		});
		return { loginPage: { ok: true, message: 'Button text saved.', value: null } };
	}
};
