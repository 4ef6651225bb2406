import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { deleteSessionCookie } from '$lib/server/auth/session';
import {
	backupDir,
	createBackup,
	deleteBackup,
	getBackupSchedule,
	listBackups,
	saveBackupSchedule,
	savedPassphrase
} from '$lib/server/backup';
import { isBackupName } from '$lib/server/backup-format';
import {
	restoreFromForm,
	RESTORE_FORM_MAX_BYTES,
	UPLOAD_TOO_LARGE
} from '$lib/server/backup-restore';
import { isValidCron, SCHEDULES, type Schedule } from '$lib/server/backup-cron';
import { purgeExpiredAudit } from '$lib/server/housekeeping';
import { readForm } from '$lib/server/form';
import { getAuditRetentionDays, setAuditRetentionDays } from '$lib/server/settings';
import { auditRetentionSchema } from '$lib/schemas/audit';
import { cronField, newPassphrase } from '$lib/schemas/backup';
import { fieldErrors, formFields } from '$lib/schemas/fields';
import type { Actions, PageServerLoad } from './$types';

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
		auditRetentionDays
	};
};

export const actions: Actions = {
	create: async (event) => {
		const { user } = requireUser(event);
		const { passphrase: raw } = formFields(await readForm(event.request), ['passphrase'] as const);
		const typed = v.safeParse(newPassphrase, raw);
		if (!typed.success) {
			return fail(400, { create: { ok: false, message: typed.issues[0].message } });
		}
		const passphrase = typed.output || (await savedPassphrase());
		const { name, removed } = await createBackup(passphrase);
		await audit({
			event: 'backup.created',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { name, encrypted: Boolean(passphrase), removed: removed.length }
		});
		return {
			create: {
				ok: true,
				message: `Backup ${name} created${passphrase ? ' (encrypted)' : ''}.${removed.length ? ` ${removed.length} older backup(s) removed by retention.` : ''}`
			}
		};
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
		const schedule = form.schedule;
		const cronParsed = v.safeParse(cronField, form.cron);
		const cron = cronParsed.success ? cronParsed.output : '';
		const retentionText = form.retention.trim().slice(0, 10);
		const typed = v.safeParse(newPassphrase, form.passphrase);
		const passphrase = typed.success ? typed.output : '';
		const clearPassphrase = form.clearPassphrase === 'on';
		const values = { schedule: schedule.slice(0, 10), cron, retention: retentionText };
		const errors: Record<string, string> = {};
		if (!(SCHEDULES as readonly string[]).includes(schedule))
			errors.schedule = 'Choose a schedule.';
		if (!cronParsed.success) {
			errors.cron = cronParsed.issues[0].message;
		} else if (schedule === 'cron' && !isValidCron(cron)) {
			errors.cron = 'Enter a valid cron expression, for example "0 4 * * *" (04:00 every day).';
		}
		const retention = Number(retentionText);
		if (!/^\d+$/.test(retentionText) || retention < 1 || retention > 1000) {
			errors.retention = 'Keep between 1 and 1000 backups.';
		}
		if (!typed.success) errors.passphrase = typed.issues[0].message;
		if (Object.keys(errors).length) return fail(400, { schedule: { ok: false, values, errors } });

		const removed = await saveBackupSchedule({
			schedule: schedule as Schedule,
			cron,
			retention,
			passphrase,
			clearPassphrase
		});
		await audit({
			event: 'backup.schedule_changed',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: {
				schedule,
				cron: schedule === 'cron' ? cron : null,
				retention,
				passphrase: passphrase ? 'set' : clearPassphrase ? 'cleared' : 'unchanged'
			}
		});
		return {
			schedule: {
				ok: true,
				values,
				errors: {} as Record<string, string>,
				message: `Schedule saved.${removed.length ? ` ${removed.length} older backup(s) removed by retention.` : ''}`
			}
		};
	},

	auditRetention: async (event) => {
		const { user } = requireUser(event);
		const form = formFields(await readForm(event.request), ['auditRetentionDays'] as const);
		const parsed = v.safeParse(auditRetentionSchema, form);
		if (!parsed.success) {
			const values = { auditRetentionDays: form.auditRetentionDays.slice(0, 10) };
			return fail(400, { audit: { ok: false, values, errors: fieldErrors(parsed.issues) } });
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
				errors: {} as Record<string, string>,
				message: `Audit entries are kept for ${days} day${days === 1 ? '' : 's'}.${removed ? ` ${removed} older entr${removed === 1 ? 'y was' : 'ies were'} removed.` : ''}`
			}
		};
	},

	delete: async (event) => {
		const { user } = requireUser(event);
		const name = (await readForm(event.request)).get('name');
		if (!isBackupName(name) || !(await deleteBackup(name))) {
			return fail(404, { files: { ok: false, message: 'No such backup.' } });
		}
		await audit({
			event: 'backup.deleted',
			userId: user.id,
			ip: event.locals.client.ip,
			detail: { name }
		});
		return { files: { ok: true, message: `Backup ${name} deleted.` } };
	},

	restore: async (event) => {
		requireUser(event);
		const form = await readForm(event.request, RESTORE_FORM_MAX_BYTES, UPLOAD_TOO_LARGE);
		if (form.get('confirm') !== 'on') {
			return fail(400, {
				restore: {
					message: 'Tick the box to confirm that the restore replaces all users and settings.'
				}
			});
		}
		const result = await restoreFromForm(form, 'settings', event.locals.client.ip);
		if (!result.ok) return fail(result.status, { restore: { message: result.message } });
		// Every session ended inside the restore; this browser's cookie goes too.
		deleteSessionCookie(event.cookies, event.locals.secureCookies);
		redirect(303, '/login');
	}
};
