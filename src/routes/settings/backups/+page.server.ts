import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { deleteSessionCookie } from '$lib/server/auth/session';
import {
	BackupError,
	backupDir,
	createManualBackup,
	deleteBackup,
	getBackupSchedule,
	isBackupName,
	listBackups,
	refuse,
	RESTORE_FORM_MAX_BYTES,
	restoreFromForm,
	saveBackupSchedule,
	say
} from '$lib/server/backup';
import { purgeExpiredAudit } from '$lib/server/housekeeping';
import { readForm } from '$lib/server/form';
import { instanceName } from '$lib/server/instance';
import { getAuditRetentionDays, setAuditRetentionDays } from '$lib/server/settings';
import { auditRetentionSchema } from '$lib/schemas/audit';
import { cronField, newPassphrase, scheduleSchema } from '$lib/schemas/backup';
import { fieldErrors, formFields } from '$lib/schemas/fields';
import type { Actions, PageServerLoad } from './$types';

const NO_ERRORS: Record<string, string> = {};

export const load: PageServerLoad = async (event) => {
	requireUser(event);
	const [schedule, files, auditRetentionDays] = await Promise.all([
		getBackupSchedule(),
		listBackups(),
		getAuditRetentionDays()
	]);
	return {
		schedule: { ...schedule, lastBackupAt: schedule.lastBackupAt?.toISOString() ?? null },
		files: files.map((f) => ({ ...f, createdAt: f.createdAt.toISOString() })),
		folder: backupDir(),
		instance: instanceName(),
		auditRetentionDays
	};
};

export const actions = {
	create: async (event) => {
		const { user } = requireUser(event);
		const { passphrase } = formFields(await readForm(event.request), ['passphrase'] as const);
		const typed = v.safeParse(newPassphrase, passphrase);
		if (!typed.success) return refuse(400, 'create', { message: typed.issues[0].message });
		let made: Awaited<ReturnType<typeof createManualBackup>>;
		try {
			made = await createManualBackup(typed.output);
		} catch (error) {
			// A full or read-only folder (507), a shutdown (503): said plainly, the list unchanged.
			if (!(error instanceof BackupError)) throw error;
			const status = error.code === 'folder' ? 507 : 503;
			return refuse(status, 'create', { message: error.message });
		}
		const { name, removed, encrypted } = made;
		await audit({
			event: 'backup.created',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { name, encrypted, removed: removed.length }
		});
		return { create: { ok: true, message: say.created(name, encrypted, removed.length) } };
	},

	schedule: async (event) => {
		const { user } = requireUser(event);
		const form = formFields(await readForm(event.request), [
			'schedule',
			'cron',
			'retention',
			'passphrase',
			'clearPassphrase'
		] as const);
		const parsed = v.safeParse(scheduleSchema, form);
		if (!parsed.success) {
			const cron = v.safeParse(cronField, form.cron);
			const values = {
				schedule: form.schedule.slice(0, 10),
				cron: cron.success ? cron.output : '',
				retention: form.retention.trim().slice(0, 10)
			};
			return refuse(400, 'schedule', { values, errors: fieldErrors(parsed.issues) });
		}
		const change = parsed.output;
		const cron = change.schedule === 'cron' ? change.cron : null;
		const removed = await saveBackupSchedule(change);
		await audit({
			event: 'backup.schedule_changed',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: {
				schedule: change.schedule,
				cron,
				retention: change.retention,
				passphrase: change.passphrase ? 'set' : change.clearPassphrase ? 'cleared' : 'unchanged'
			}
		});
		return {
			schedule: {
				ok: true,
				values: {
					schedule: change.schedule,
					cron: change.cron,
					retention: String(change.retention)
				},
				errors: NO_ERRORS,
				message: say.scheduleSaved(removed.length)
			}
		};
	},

	auditRetention: async (event) => {
		const { user } = requireUser(event);
		const form = formFields(await readForm(event.request), ['auditRetentionDays'] as const);
		const parsed = v.safeParse(auditRetentionSchema, form);
		if (!parsed.success) {
			const values = { auditRetentionDays: form.auditRetentionDays.slice(0, 10) };
			return refuse(400, 'audit', { values, errors: fieldErrors(parsed.issues) });
		}
		const days = parsed.output.auditRetentionDays;
		await setAuditRetentionDays(days);
		const removed = await purgeExpiredAudit();
		await audit({
			event: 'settings.audit_retention',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { days, removed }
		});
		return {
			audit: {
				ok: true,
				values: { auditRetentionDays: String(days) },
				errors: NO_ERRORS,
				message: say.auditKept(days, removed)
			}
		};
	},

	delete: async (event) => {
		const { user } = requireUser(event);
		const name = (await readForm(event.request)).get('name');
		if (!isBackupName(name) || !(await deleteBackup(name))) {
			return refuse(404, 'files', { message: say.noSuchBackup });
		}
		await audit({
			event: 'backup.deleted',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { name }
		});
		return { files: { ok: true, message: say.deleted(name) } };
	},

	restore: async (event) => {
		requireUser(event);
		const form = await readForm(event.request, RESTORE_FORM_MAX_BYTES, say.uploadTooLarge);
		if (form.get('confirm') !== 'on') {
			return refuse(400, 'restore', { message: say.confirmRestore });
		}
		const result = await restoreFromForm(form, 'settings', event.locals.client.ip);
		if (!result.ok) return refuse(result.status, 'restore', { message: result.message });
		// Every session ended inside the restore; this browser's cookie goes too.
		deleteSessionCookie(event.cookies, event.locals.secureCookies);
		redirect(303, '/login');
	}
} satisfies Actions;
