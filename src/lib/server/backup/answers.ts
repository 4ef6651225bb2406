// What the backup actions (Settings → Backups, first-run restore) answer: every message text in
// one place, and `refuse`, the one shape of a refused action.
import { fail } from '@sveltejs/kit';
import { MAX_UPLOAD_BYTES } from './format';

/** A refused action: its status, and the answer of the card it belongs to, marked not ok. */
export function refuse<Card extends string, Body extends object>(
	status: number,
	card: Card,
	body: Body
) {
	return fail(status, { [card]: { ok: false as const, ...body } } as {
		[K in Card]: { ok: false } & Body;
	});
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

const retentionRemoved = (removed: number) =>
	removed ? ` ${removed} older backup(s) removed by retention.` : '';

export const say = {
	created: (name: string, encrypted: boolean, removed: number) =>
		`Backup ${name} created${encrypted ? ' (encrypted)' : ''}.${retentionRemoved(removed)}`,
	scheduleSaved: (removed: number) => `Schedule saved.${retentionRemoved(removed)}`,
	auditKept: (days: number, removed: number) =>
		`Audit entries are kept for ${days} ${plural(days, 'day', 'days')}.${removed ? ` ${removed} older ${plural(removed, 'entry was', 'entries were')} removed.` : ''}`,
	deleted: (name: string) => `Backup ${name} deleted.`,
	noSuchBackup: 'No such backup.',
	confirmRestore: 'Tick the box to confirm that the restore replaces all users and settings.',
	chooseSource: 'Choose a backup from the list or upload a backup file.',
	uploadTooLarge: `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`,
	databaseRefused:
		'The backup could not be restored (the database refused its content). Nothing was changed.',
	databaseGone:
		'The database went away during the restore, so nothing was restored (it rolled back). Try again once it is back.',
	setupDone: 'Setup has already been completed. Sign in, then restore from Settings → Backups.',
	tooManyRestores: (minutes: number) =>
		`Too many restore attempts from your address. Try again in ${minutes} ${plural(minutes, 'minute', 'minutes')}.`
};
