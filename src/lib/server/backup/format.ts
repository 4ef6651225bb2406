// What a backup file is: its name, its header fields, its limits and the refusals a reader can
// give. Pure definitions, no database and no $lib; codec.ts reads and writes the bytes,
// contents.ts holds the valibot schemas its contents must match.
//
// A plain backup is gzip(JSON payload). The payload starts with its own header fields
// (format, version, createdAt, migrations) followed by the tables.
//
// An encrypted backup is one line of JSON header, a newline, then AES-256-GCM ciphertext of the
// gzipped payload. The header holds the format version, the schema migration names, the scrypt
// parameters, a random salt and IV, the GCM tag and a short key check (so that a wrong passphrase
// can be told apart from a damaged file). The whole header line is the cipher's additional
// authenticated data: changing any byte of the header or of the body makes decryption fail.
export const FORMAT = 'librariarr-backup';
export const FORMAT_VERSION = 1;
/** The tables a backup holds (see dump.ts for why these and not the others). */
export const BACKUP_TABLES = ['User', 'AppSettings', 'AuditEvent'] as const;
export type BackupTable = (typeof BACKUP_TABLES)[number];

/**
 * What one row of each table can hold, and how many rows a backup carries. One admin is the
 * product's model (the table allows a few more); the audit trail is the only table that grows,
 * and a backup carries at most its newest `rows` audit rows (see dumpDatabase).
 * - values: keys and values of the row's JSON, nested ones included. A row is one object whose
 *   columns are a key and a value each ("User" has 19 columns, "AppSettings" 31, "AuditEvent" 11
 *   today); an audit row's `detail` is a flat object of a few keys. About twice what the columns
 *   need today, so that columns later migrations add still fit.
 * - bytes: the row's JSON text. An audit row is short fields, a User-Agent of at most 512
 *   characters (audit.ts) and a `detail` of a few short fields (a provider's error text is cut to
 *   300 characters): under 3 KiB. A User or settings row is short names, hashes, URLs and sealed
 *   tokens (the OIDC issuer, 2,048 characters, is the longest): 64 KiB leaves room for any one
 *   string at the string limit.
 */
export const TABLE_LIMITS = {
	User: { rows: 1_000, values: 128, bytes: 64 * 1024 },
	AppSettings: { rows: 1, values: 256, bytes: 64 * 1024 },
	AuditEvent: { rows: 100_000, values: 64, bytes: 3 * 1024 }
} as const satisfies Record<BackupTable, { rows: number; values: number; bytes: number }>;

/** The payload outside the rows: its header fields, the table names, the commas between rows. */
const OUTSIDE_ROWS = { values: 4_096, bytes: 1024 * 1024, bytesPerRow: 2 };

const sum = (f: (t: (typeof TABLE_LIMITS)[BackupTable]) => number) =>
	BACKUP_TABLES.reduce((total, table) => total + f(TABLE_LIMITS[table]), 0);

/**
 * What a backup of this app can really be, derived from TABLE_LIMITS: the totals are the largest
 * rows times the most rows, plus the payload around them. The parse (codec.ts) checks each row
 * against its own table's limits as it goes, so a file can only come near a total by being made
 * of rows this app could have written.
 */
export const LIMITS = {
	/** The file as uploaded or read from the folder (compressed, maybe encrypted). */
	uploadBytes: 50 * 1024 * 1024,
	/** The JSON text after gunzip. */
	decompressedBytes: OUTSIDE_ROWS.bytes + sum((t) => t.rows * (t.bytes + OUTSIDE_ROWS.bytesPerRow)),
	/** Bytes of JSON outside the rows (whitespace included); rows' separators add bytesPerRow each. */
	outsideRows: OUTSIDE_ROWS,
	/** Objects and arrays inside each other, the payload itself counting as 1. */
	depth: 8,
	/** Characters in any one string, keys included. */
	stringChars: 16 * 1024,
	/** Values of any kind (keys, strings, numbers, objects, …) in the whole payload. */
	values: OUTSIDE_ROWS.values + sum((t) => t.rows * t.values),
	/** Of any row, whichever table: the limit while a row is still being read. */
	rowValues: Math.max(...BACKUP_TABLES.map((t) => TABLE_LIMITS[t].values)),
	rowBytes: Math.max(...BACKUP_TABLES.map((t) => TABLE_LIMITS[t].bytes)),
	rows: {
		User: TABLE_LIMITS.User.rows,
		AppSettings: TABLE_LIMITS.AppSettings.rows,
		AuditEvent: TABLE_LIMITS.AuditEvent.rows
	}
} as const;

/** Uploads above this are refused before they are read. */
export const MAX_UPLOAD_BYTES = LIMITS.uploadBytes;
export const MAX_HEADER_BYTES = 16 * 1024;

export const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
export const KEY_CHECK_LABEL = 'librariarr-backup key check';

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
	| 'over_limit'
	| 'refused'
	| 'folder'
	| 'elsewhere'
	| 'stopping';

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
	too_large: `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`,
	over_limit: 'This file is larger than a Librariarr backup can be. Nothing was restored.',
	folder: 'The backup folder cannot hold the backup.',
	elsewhere: "This backup is not on this instance's disk.",
	stopping:
		'The server is shutting down: the backup or restore was cancelled and nothing was changed.'
};

export function overLimit(what: string) {
	return backupError(
		'over_limit',
		`This file is larger than a Librariarr backup can be (${what}). Nothing was restored.`
	);
}

export function backupError(code: BackupErrorCode, message = MESSAGES[code]) {
	return new BackupError(code, message);
}

export function isGzip(bytes: Uint8Array) {
	return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function isEncryptedFile(bytes: Uint8Array) {
	return bytes.length > 0 && bytes[0] === 0x7b; // '{': a JSON header line
}

export function checkVersion(version: unknown) {
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
