// The restore form, shared by Settings → Backups and the first-run "Restore from Backup" page:
// the file comes from the backup folder (a strictly validated name) or from an upload.
import * as v from 'valibot';
import { restorePassphrase } from '../../schemas/backup';
import { audit } from '../audit';
import { isUnavailable } from '../health';
import { log } from '../log';
import { say } from './answers';
import { decodeBackup } from './codec';
import { readBackupFile } from './catalogue';
import { BackupError, MAX_UPLOAD_BYTES } from './format';
import { restorePayload, type RestoreMode } from './restore';
import { stopping } from './stopping';

/** The restore form: the largest upload plus room for the other fields and multipart framing. */
export const RESTORE_FORM_MAX_BYTES = MAX_UPLOAD_BYTES + 64 * 1024;

export type RestoreResult =
	{ ok: true; users: number } | { ok: false; status: number; message: string };

export async function restoreFromForm(
	form: FormData,
	mode: RestoreMode,
	ip: string | null
): Promise<RestoreResult> {
	const upload = form.get('file');
	const name = form.get('name');
	const typed = v.safeParse(restorePassphrase, form.get('passphrase') ?? '');
	if (!typed.success) return refuse(400, typed.issues[0].message);
	const passphrase = typed.output;
	let source: string;
	try {
		let bytes: Buffer;
		if (upload instanceof File && upload.size > 0) {
			if (upload.size > MAX_UPLOAD_BYTES) {
				return refuse(413, say.uploadTooLarge);
			}
			source = 'upload';
			bytes = Buffer.from(await upload.arrayBuffer());
		} else if (typeof name === 'string' && name !== '') {
			source = name;
			bytes = await readBackupFile(name);
		} else {
			return refuse(400, say.chooseSource);
		}
		const payload = await decodeBackup(bytes, passphrase || null, stopping);
		const { users } = await restorePayload(payload, mode);
		log.info('Backup restored', { source, mode, users });
		await audit({ event: 'backup.restored', ip, detail: { source, mode, users } });
		return { ok: true, users };
	} catch (error) {
		// A shutdown cancelled it (stopping.ts): the transaction rolled back.
		if (stopping.aborted) return refuse(503, (stopping.reason as Error).message);
		if (isUnavailable(error)) {
			log.error('Restore interrupted: the database went away', { error: String(error) });
			return refuse(503, say.databaseGone);
		}
		if (!(error instanceof BackupError)) {
			// A row the database refuses (a constraint) also rolls the whole restore back.
			log.error('Restore failed', { error: String(error) });
			return refuse(422, say.databaseRefused);
		}
		const status =
			error.code === 'too_large' || error.code === 'over_limit'
				? 413
				: error.code === 'refused'
					? 403
					: error.code === 'elsewhere'
						? 404
						: 400;
		return refuse(status, error.message);
	}

	function refuse(status: number, message: string): RestoreResult {
		log.warn('Restore refused', { mode, reason: message });
		return { ok: false, status, message };
	}
}
