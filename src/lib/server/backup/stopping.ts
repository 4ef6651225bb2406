// A shutdown (SIGTERM from `docker stop` or systemd, SIGINT from Ctrl-C) while a backup is being
// written or a restore runs: the server waits for requests in flight before it exits, and a
// restore of a large backup can take longer than Docker's 10 seconds. So both are cancelled: the
// write stops and its temporary file is removed (files.ts), the restore's statement is cancelled
// in PostgreSQL (pg_cancel_backend), which rolls its one transaction back. The request then
// answers that the server is shutting down, and the server exits.
import { sql } from '../db';
import { log } from '../log';
import { backupError } from './format';

const controller = new AbortController();

/** Aborted once the process has been asked to stop. */
export const stopping: AbortSignal = controller.signal;

/** The PostgreSQL backends of restores in progress. */
const restoring = new Set<number>();

/** Runs `work` as a restore that a shutdown cancels; `pid` is its transaction's backend. */
export async function cancellable<T>(pid: number, work: () => Promise<T>): Promise<T> {
	stopping.throwIfAborted();
	restoring.add(pid);
	try {
		return await work();
	} finally {
		restoring.delete(pid);
	}
}

function stop(signal: string) {
	if (controller.signal.aborted) return;
	controller.abort(backupError('stopping'));
	for (const pid of restoring) {
		log.warn('Shutting down: cancelling the restore in progress (it rolls back)', { signal });
		sql`select pg_cancel_backend(${pid})`.catch((error) =>
			log.error('Could not cancel the restore', { error: String(error) })
		);
	}
}

let listening = false;

/** Called once at start: SIGTERM and SIGINT cancel backups and restores in progress. */
export function cancelBackupsOnShutdown() {
	if (listening) return;
	listening = true;
	process.once('SIGTERM', () => stop('SIGTERM'));
	process.once('SIGINT', () => stop('SIGINT'));
}
