// The backup file format, with no database and no $lib: pure functions the unit tests drive.
//
// A plain backup is gzip(JSON payload). The payload starts with its own header fields
// (format, version, createdAt, migrations) followed by the tables.
//
// An encrypted backup is one line of JSON header, a newline, then AES-256-GCM ciphertext of the
// gzipped payload. The header holds the format version, the schema migration names, the scrypt
// parameters, a random salt and IV, the GCM tag and a short key check (so that a wrong passphrase
// can be told apart from a damaged file). The whole header line is the cipher's additional
// authenticated data: changing any byte of the header or of the body makes decryption fail.
import {
	createCipheriv,
	createDecipheriv,
	createHmac,
	randomBytes,
	scrypt as scryptCb,
	timingSafeEqual,
	type ScryptOptions
} from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';

const scrypt = promisify(scryptCb) as (
	password: string,
	salt: Buffer,
	keylen: number,
	options: ScryptOptions
) => Promise<Buffer>;
const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

export const FORMAT = 'librariarr-backup';
export const FORMAT_VERSION = 1;
/** The tables a backup holds (see backup.ts for why these and not the others). */
export const BACKUP_TABLES = ['User', 'AppSettings', 'AuditEvent'] as const;
export type BackupTable = (typeof BACKUP_TABLES)[number];

/** Uploads above this are refused before they are read. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** A gzip bomb stops here instead of filling the memory. */
const MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;

const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_CHECK_LABEL = 'librariarr-backup key check';

/** `librariarr-2026-11-27T14-05-00Z.json.gz`, optionally with milliseconds and `.enc`. */
export const BACKUP_NAME_RE =
	/^librariarr-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d{3})?Z\.json\.gz(?:\.enc)?$/;

/** True only for names this app generates: no slashes, no dots to climb out of the folder. */
export function isBackupName(name: unknown): name is string {
	return typeof name === 'string' && name.length <= 64 && BACKUP_NAME_RE.test(name);
}

export function backupName(date: Date, encrypted: boolean): string {
	const stamp = date.toISOString().replace(/:/g, '-'); // 2026-11-27T14-05-00.123Z
	return `librariarr-${stamp}.json.gz${encrypted ? '.enc' : ''}`;
}

export type Payload = {
	format: typeof FORMAT;
	version: number;
	createdAt: string;
	migrations: string[];
	/** 'included': the instance-key secrets were opened and are in here as plain text. */
	secrets: 'included' | 'omitted';
	tables: Record<BackupTable, Record<string, unknown>[]>;
};

export type EncryptedHeader = {
	format: typeof FORMAT;
	version: number;
	encrypted: true;
	migrations: string[];
	kdf: 'scrypt';
	N: number;
	r: number;
	p: number;
	salt: string;
	iv: string;
	tag: string;
	check: string;
};

export type BackupErrorCode =
	| 'not_backup'
	| 'damaged'
	| 'future_version'
	| 'passphrase_required'
	| 'wrong_passphrase'
	| 'too_large'
	| 'refused';

/** A refusal with a message meant for the admin's eyes. */
export class BackupError extends Error {
	constructor(
		readonly code: BackupErrorCode,
		message: string
	) {
		super(message);
		this.name = 'BackupError';
	}
}

const MESSAGES: Record<BackupErrorCode, string> = {
	not_backup: 'This file is not a Librariarr backup.',
	damaged: 'The backup file is damaged or incomplete (truncated or altered). Nothing was restored.',
	future_version:
		'This backup was made by a newer version of Librariarr. Update Librariarr before restoring it.',
	passphrase_required: 'This backup is encrypted. Enter its passphrase.',
	wrong_passphrase:
		'Wrong passphrase for this backup, or the file was altered. Nothing was restored.',
	refused: 'This restore is not allowed here.',
	too_large: `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`
};

export function backupError(code: BackupErrorCode, message = MESSAGES[code]) {
	return new BackupError(code, message);
}

function isGzip(bytes: Uint8Array) {
	return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function isEncryptedFile(bytes: Uint8Array) {
	return bytes.length > 0 && bytes[0] === 0x7b; // '{': a JSON header line
}

function checkVersion(version: unknown) {
	if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
		throw backupError('not_backup');
	}
	if (version > FORMAT_VERSION) {
		throw backupError(
			'future_version',
			`This backup uses format version ${version}, made by a newer version of Librariarr; this one reads version ${FORMAT_VERSION}. Update Librariarr before restoring it.`
		);
	}
}

function isStringArray(value: unknown): value is string[] {
	return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Reads and validates the header line of an encrypted backup. */
export function parseEncryptedHeader(bytes: Buffer): {
	header: EncryptedHeader;
	bodyStart: number;
} {
	const end = bytes.subarray(0, MAX_HEADER_BYTES).indexOf(0x0a);
	if (end < 0) throw backupError(isEncryptedFile(bytes) ? 'damaged' : 'not_backup');
	let raw: unknown;
	try {
		raw = JSON.parse(bytes.subarray(0, end).toString('utf8'));
	} catch {
		throw backupError('damaged');
	}
	if (typeof raw !== 'object' || raw === null) throw backupError('not_backup');
	const h = raw as Record<string, unknown>;
	if (h.format !== FORMAT) throw backupError('not_backup');
	checkVersion(h.version);
	const ok =
		h.encrypted === true &&
		isStringArray(h.migrations) &&
		h.kdf === 'scrypt' &&
		h.N === SCRYPT.N &&
		h.r === SCRYPT.r &&
		h.p === SCRYPT.p &&
		[h.salt, h.iv, h.tag, h.check].every((v) => typeof v === 'string' && B64.test(v)) &&
		Buffer.from(h.iv as string, 'base64').length === 12 &&
		Buffer.from(h.tag as string, 'base64').length === 16 &&
		Buffer.from(h.salt as string, 'base64').length >= 16;
	if (!ok) throw backupError('damaged');
	return { header: h as EncryptedHeader, bodyStart: end + 1 };
}

async function deriveKeys(passphrase: string, salt: Buffer) {
	const bytes = await scrypt(passphrase.normalize('NFC'), salt, 32, {
		...SCRYPT,
		maxmem: 64 * 1024 * 1024
	});
	const check = createHmac('sha256', bytes).update(KEY_CHECK_LABEL).digest().subarray(0, 16);
	return { key: bytes, check };
}

/** Serialises a payload; with a passphrase, encrypts it. */
export async function encodeBackup(payload: Payload, passphrase?: string | null): Promise<Buffer> {
	const gz = await gzip(Buffer.from(JSON.stringify(payload), 'utf8'));
	if (!passphrase) return gz;
	const salt = randomBytes(16);
	const iv = randomBytes(12);
	const { key, check } = await deriveKeys(passphrase, salt);
	// The tag is only known after encrypting, but the header is the AAD: encrypt with a header
	// whose tag field is blank, then write the real tag into the final header. Decryption rebuilds
	// the blank-tag header the same way.
	const header: EncryptedHeader = {
		format: FORMAT,
		version: payload.version,
		encrypted: true,
		migrations: payload.migrations,
		kdf: 'scrypt',
		...SCRYPT,
		salt: salt.toString('base64'),
		iv: iv.toString('base64'),
		tag: '',
		check: check.toString('base64')
	};
	const cipher = createCipheriv('aes-256-gcm', key, iv);
	cipher.setAAD(aad(header));
	const body = Buffer.concat([cipher.update(gz), cipher.final()]);
	header.tag = cipher.getAuthTag().toString('base64');
	return Buffer.concat([Buffer.from(JSON.stringify(header) + '\n', 'utf8'), body]);
}

function aad(header: EncryptedHeader) {
	return Buffer.from(JSON.stringify({ ...header, tag: '' }), 'utf8');
}

/** What a file says about itself before any passphrase is needed. */
export function inspectBackup(bytes: Buffer): { encrypted: boolean } {
	if (isGzip(bytes)) return { encrypted: false };
	if (isEncryptedFile(bytes)) {
		parseEncryptedHeader(bytes);
		return { encrypted: true };
	}
	throw backupError('not_backup');
}

/**
 * Turns file bytes back into a validated payload, or throws a BackupError. Nothing here touches
 * the database, so every refusal happens before the restore transaction begins.
 */
export async function decodeBackup(bytes: Buffer, passphrase?: string | null): Promise<Payload> {
	if (bytes.length > MAX_UPLOAD_BYTES) throw backupError('too_large');
	let gz: Buffer;
	if (isGzip(bytes)) {
		gz = bytes;
	} else if (isEncryptedFile(bytes)) {
		const { header, bodyStart } = parseEncryptedHeader(bytes);
		if (!passphrase) throw backupError('passphrase_required');
		const { key, check } = await deriveKeys(passphrase, Buffer.from(header.salt, 'base64'));
		const expected = Buffer.from(header.check, 'base64');
		if (expected.length !== check.length || !timingSafeEqual(expected, check)) {
			throw backupError('wrong_passphrase');
		}
		try {
			const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
			decipher.setAAD(aad(header));
			decipher.setAuthTag(Buffer.from(header.tag, 'base64'));
			gz = Buffer.concat([decipher.update(bytes.subarray(bodyStart)), decipher.final()]);
		} catch {
			// The key is right (the check matched), so the header or the body was changed.
			throw backupError('damaged');
		}
	} else {
		throw backupError('not_backup');
	}

	let text: string;
	try {
		text = (await gunzip(gz, { maxOutputLength: MAX_UNCOMPRESSED_BYTES })).toString('utf8');
	} catch {
		throw backupError('damaged');
	}
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch {
		throw backupError(
			'not_backup',
			'The file is not a Librariarr backup (its content is not JSON).'
		);
	}
	return validatePayload(raw);
}

export function validatePayload(raw: unknown): Payload {
	if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
		throw backupError('not_backup');
	const p = raw as Record<string, unknown>;
	if (p.format !== FORMAT) throw backupError('not_backup');
	checkVersion(p.version);
	if (
		typeof p.createdAt !== 'string' ||
		!isStringArray(p.migrations) ||
		(p.secrets !== 'included' && p.secrets !== 'omitted') ||
		typeof p.tables !== 'object' ||
		p.tables === null
	) {
		throw backupError('damaged', 'The backup is incomplete: its header fields are missing.');
	}
	const tables = p.tables as Record<string, unknown>;
	for (const name of BACKUP_TABLES) {
		const rows = tables[name];
		if (
			!Array.isArray(rows) ||
			!rows.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))
		) {
			throw backupError('damaged', `The backup is incomplete: table "${name}" is missing.`);
		}
	}
	if ((tables.AppSettings as unknown[]).length !== 1) {
		throw backupError('damaged', 'The backup is incomplete: it has no settings row.');
	}
	return raw as Payload;
}
