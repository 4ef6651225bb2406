import { fail, redirect } from '@sveltejs/kit';
import { audit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guard';
import { deleteSessionCookie } from '$lib/server/auth/session';
import {
	applyRetention,
	backupDir,
	createBackup,
	deleteBackup,
	listBackups,
	savedPassphrase
} from '$lib/server/backup';
import { isBackupName } from '$lib/server/backup-format';
import { restoreFromForm } from '$lib/server/backup-restore';
import { isValidCron, SCHEDULES, type Schedule } from '$lib/server/backup-cron';
import { seal } from '$lib/server/crypto.js';
import { sql } from '$lib/server/db';
import type { Actions, PageServerLoad } from './$types';

const MIN_PASSPHRASE = 8;

export const load: PageServerLoad = async (event) => {
	requireUser(event);
	const [[settings], files] = await Promise.all([
		sql<
			{
				backupSchedule: Schedule;
				backupCron: string | null;
				backupRetention: number;
				hasPassphrase: boolean;
				lastBackupAt: Date | null;
			}[]
		>`
			select "backupSchedule", "backupCron", "backupRetention",
				"backupPassphrase" is not null as "hasPassphrase", "lastBackupAt"
			from "AppSettings" where id = 1
		`,
		listBackups()
	]);
	return {
		schedule: {
			schedule: settings.backupSchedule,
			cron: settings.backupCron ?? '',
			retention: settings.backupRetention,
			hasPassphrase: settings.hasPassphrase,
			lastBackupAt: settings.lastBackupAt?.toISOString() ?? null
		},
		files: files.map((f) => ({ ...f, createdAt: f.createdAt.toISOString() })),
		folder: backupDir()
	};
};

export const actions: Actions = {
	create: async (event) => {
		const { user } = requireUser(event);
		const form = await event.request.formData();
		const typed = String(form.get('passphrase') ?? '');
		if (typed && typed.length < MIN_PASSPHRASE) {
			return fail(400, {
				create: { ok: false, message: `A passphrase needs at least ${MIN_PASSPHRASE} characters.` }
			});
		}
		const passphrase = typed || (await savedPassphrase());
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
		const form = await event.request.formData();
		const schedule = String(form.get('schedule') ?? '');
		const cron = String(form.get('cron') ?? '').trim();
		const retentionText = String(form.get('retention') ?? '').trim();
		const passphrase = String(form.get('passphrase') ?? '');
		const clearPassphrase = form.get('clearPassphrase') === 'on';
		const values = { schedule, cron, retention: retentionText };
		const errors: Record<string, string> = {};
		if (!(SCHEDULES as readonly string[]).includes(schedule))
			errors.schedule = 'Choose a schedule.';
		if (schedule === 'cron' && !isValidCron(cron)) {
			errors.cron = 'Enter a valid cron expression, for example "0 4 * * *" (04:00 every day).';
		}
		const retention = Number(retentionText);
		if (!/^\d+$/.test(retentionText) || retention < 1 || retention > 1000) {
			errors.retention = 'Keep between 1 and 1000 backups.';
		}
		if (passphrase && passphrase.length < MIN_PASSPHRASE) {
			errors.passphrase = `At least ${MIN_PASSPHRASE} characters.`;
		}
		if (Object.keys(errors).length) return fail(400, { schedule: { ok: false, values, errors } });

		const sealed = passphrase ? seal(passphrase) : null;
		await sql`
			update "AppSettings" set
				"backupSchedule" = ${schedule},
				"backupCron" = ${schedule === 'cron' ? cron : null},
				"backupRetention" = ${retention},
				"backupPassphrase" = ${passphrase ? sealed : clearPassphrase ? null : sql`"backupPassphrase"`},
				"updatedAt" = now()
			where id = 1
		`;
		const removed = await applyRetention();
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

	delete: async (event) => {
		const { user } = requireUser(event);
		const name = (await event.request.formData()).get('name');
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
		const form = await event.request.formData();
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
