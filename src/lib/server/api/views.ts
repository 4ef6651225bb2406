// What /api/v1 answers, from the same model functions the settings pages use (history.ts,
// sessions-list.ts, backup/): the routes stay thin, and each answer has the shape its schema in
// $lib/schemas/api.ts describes (openapi.json is generated from those).
import type * as v from 'valibot';
import pkg from '../../../../package.json';
import type {
	backupCreatedSchema,
	backupsSchema,
	historyPageSchema,
	sessionsSchema,
	systemStatusSchema
} from '../../schemas/api';
import { audit } from '../audit';
import type { ApiPrincipal } from '../auth/api-keys';
import { listSessions, revokeSession } from '../auth/sessions-list';
import { loginPageWays } from '../sso/login';
import { BackupError, createManualBackup, listBackups, say } from '../backup';
import { eventLabel, historyPage } from '../history';

type Out<S extends v.GenericSchema> = v.InferOutput<S>;

/**
 * Version, uptime, and the sign-in methods the login page offers at `rpId` (passkeys belong to a
 * host); the query that reads them is the database check.
 */
export async function systemStatus(rpId: string): Promise<Out<typeof systemStatusSchema>> {
	const offered = await loginPageWays(rpId);
	return {
		version: pkg.version,
		uptimeSeconds: Math.floor(process.uptime()),
		database: 'ok',
		signIn: {
			password: offered.local,
			plex: offered.plex,
			sso: offered.sso,
			passkey: offered.passkey
		}
	};
}

/** One page of the sign-in history, as Settings → Security shows it (without filters). */
export async function historyView(page: number): Promise<Out<typeof historyPageSchema>> {
	const history = await historyPage({ event: null, method: null, page });
	return {
		page: history.page,
		pages: history.pages,
		total: history.total,
		entries: history.entries.map((e) => ({
			id: e.id,
			occurredAt: e.occurredAt.toISOString(),
			event: e.event,
			eventLabel: eventLabel(e.event),
			method: e.method,
			ip: e.ip,
			browser: e.browser,
			system: e.system,
			username: e.username,
			reason: e.reason,
			count: e.count,
			lastOccurredAt: e.lastOccurredAt?.toISOString() ?? null
		}))
	};
}

/** The key owner's live sessions. A key is no session, so none of them is "current". */
export async function sessionsView(key: ApiPrincipal): Promise<Out<typeof sessionsSchema>> {
	const sessions = await listSessions(key.userId, '');
	return {
		sessions: sessions.map((s) => ({
			id: s.publicId,
			method: s.method,
			browser: s.browser,
			system: s.system,
			ip: s.ip,
			createdAt: s.createdAt.toISOString(),
			lastSeenAt: s.lastSeenAt.toISOString()
		}))
	};
}

/** Signs one of the key owner's sessions out; false when there is no such live session. */
export async function endSession(key: ApiPrincipal, id: string, ip: string): Promise<boolean> {
	if ((await revokeSession(key.userId, '', id)) !== 'revoked') return false;
	await audit({
		event: 'session.revoked',
		userId: key.userId,
		method: 'api-key',
		ip,
		detail: { sessions: 1, key: key.prefix }
	});
	return true;
}

export async function backupsView(): Promise<Out<typeof backupsSchema>> {
	const backups = await listBackups();
	return {
		backups: backups.map((b) => ({
			name: b.name,
			size: b.size,
			encrypted: b.encrypted,
			createdAt: b.createdAt.toISOString(),
			instance: b.instance,
			here: b.here
		}))
	};
}

export type BackupAnswer =
	| { ok: true; body: Out<typeof backupCreatedSchema> }
	| { ok: false; status: number; message: string };

/** A backup now (with the saved passphrase, if any), as Settings → Backups makes one. */
export async function backupNow(key: ApiPrincipal, ip: string): Promise<BackupAnswer> {
	let made;
	try {
		made = await createManualBackup('');
	} catch (error) {
		if (!(error instanceof BackupError)) throw error;
		return { ok: false, status: error.code === 'folder' ? 507 : 503, message: error.message };
	}
	const { name, removed, encrypted } = made;
	await audit({
		event: 'backup.created',
		userId: key.userId,
		method: 'api-key',
		ip,
		detail: { name, encrypted, removed: removed.length, key: key.prefix }
	});
	return {
		ok: true,
		body: { name, encrypted, message: say.created(name, encrypted, removed.length) }
	};
}
