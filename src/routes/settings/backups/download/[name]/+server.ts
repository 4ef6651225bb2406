import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guard';
import { BackupError, isBackupName, readBackupFile } from '$lib/server/backup';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async (event) => {
	requireUser(event);
	const name = event.params.name;
	if (!isBackupName(name)) error(404, 'No such backup.');
	let bytes: Buffer;
	try {
		bytes = await readBackupFile(name);
	} catch (failure) {
		// Not on this instance's disk: the refusal says which instance holds it.
		error(404, failure instanceof BackupError ? failure.message : 'No such backup.');
	}
	return new Response(new Uint8Array(bytes), {
		headers: {
			'content-type': 'application/octet-stream',
			'content-disposition': `attachment; filename="${name}"`,
			'content-length': String(bytes.length),
			'cache-control': 'no-store'
		}
	});
};
