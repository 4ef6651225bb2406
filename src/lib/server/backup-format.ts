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
//
// Reading a backup is bounded at every step (LIMITS): the upload's size, then the gzip stream is
// decompressed chunk by chunk and fed to a streaming JSON parser that counts as it goes (bytes,
// nesting depth, string length, values, rows per table). A file that is small on the wire but
// enormous inside stops at the first limit it crosses, with only a chunk of it in memory, and the
// event loop keeps serving other requests between chunks.
import { Tokenizer, TokenParser, TokenType } from '@streamparser/json';
import {
	createCipheriv,
	createDecipheriv,
	createHmac,
	randomBytes,
	scrypt as scryptCb,
	timingSafeEqual,
	type ScryptOptions
} from 'node:crypto';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gzip as gzipCb } from 'node:zlib';
import * as v from 'valibot';

const scrypt = promisify(scryptCb) as (
	password: string,
	salt: Buffer,
	keylen: number,
	options: ScryptOptions
) => Promise<Buffer>;
const gzip = promisify(gzipCb);

export const FORMAT = 'librariarr-backup';
export const FORMAT_VERSION = 1;
/** The tables a backup holds (see backup.ts for why these and not the others). */
export const BACKUP_TABLES = ['User', 'AppSettings', 'AuditEvent'] as const;
export type BackupTable = (typeof BACKUP_TABLES)[number];

/**
 * What a backup of this app can really be. One admin is the product's model (the table allows a
 * few more); the audit trail is the only table that grows, and a backup carries at most its newest
 * `rows.AuditEvent` rows (see dumpDatabase), each a few hundred bytes. Every other column is a short
 * name, hash, URL or token; the longest strings are the OIDC issuer (2,048) and the client secret
 * (1,024). The deepest value is a jsonb column inside a row inside a table: depth 6.
 */
export const LIMITS = {
	/** The file as uploaded or read from the folder (compressed, maybe encrypted). */
	uploadBytes: 50 * 1024 * 1024,
	/** The JSON text after gunzip. */
	decompressedBytes: 64 * 1024 * 1024,
	/** Objects and arrays inside each other, the payload itself counting as 1. */
	depth: 8,
	/** Characters in any one string, keys included. */
	stringChars: 16 * 1024,
	/** Values of any kind (keys, strings, numbers, objects, …) in the whole payload. */
	values: 2_000_000,
	rows: { User: 1_000, AppSettings: 1, AuditEvent: 100_000 }
} as const;

/** Uploads above this are refused before they are read. */
export const MAX_UPLOAD_BYTES = LIMITS.uploadBytes;
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
	| 'over_limit'
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
	too_large: `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`,
	over_limit: 'This file is larger than a Librariarr backup can be. Nothing was restored.'
};

function overLimit(what: string) {
	return backupError(
		'over_limit',
		`This file is larger than a Librariarr backup can be (${what}). Nothing was restored.`
	);
}

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

	return validatePayload(await parseBounded(gz));
}

class NotJson extends Error {}

/**
 * gunzip and JSON.parse in one bounded pass: every limit in LIMITS is checked as the bytes and
 * tokens arrive, so the first one crossed ends the work.
 */
async function parseBounded(gz: Buffer): Promise<unknown> {
	// emitPartialTokens: a string still being read is reported as it grows, so its length is
	// checked before it is complete.
	const tokenizer = new Tokenizer({ stringBufferSize: 64 * 1024, emitPartialTokens: true });
	const parser = new TokenParser();
	const rows: Record<string, number> = {};
	let depth = 0;
	let values = 0;
	let result: unknown;
	let complete = false;

	tokenizer.onToken = (info) => {
		const { token, value } = info;
		if (token === TokenType.STRING && (value as string).length > LIMITS.stringChars) {
			throw overLimit(`a text longer than ${LIMITS.stringChars} characters`);
		}
		if (info.partial) return;
		if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) {
			if (++depth > LIMITS.depth) throw overLimit(`nested deeper than ${LIMITS.depth} levels`);
		} else if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) {
			depth--;
		}
		if (token !== TokenType.COLON && token !== TokenType.COMMA && ++values > LIMITS.values) {
			throw overLimit(`more than ${LIMITS.values} values`);
		}
		parser.write(info);
	};
	parser.onValue = ({ value, stack, parent }) => {
		if (stack.length === 0) {
			result = value;
			complete = true;
			return;
		}
		// A row: an element of the array at payload.tables[name].
		if (stack.length === 3 && stack[1].key === 'tables' && Array.isArray(parent)) {
			const table = String(stack[2].key);
			const max = (LIMITS.rows as Record<string, number>)[table] ?? 0;
			rows[table] = (rows[table] ?? 0) + 1;
			if (rows[table] > max) throw overLimit(`more than ${max} rows in "${table}"`);
		}
	};
	tokenizer.onError = (error) => {
		throw error instanceof BackupError ? error : new NotJson(error.message);
	};
	parser.onError = tokenizer.onError;

	const gunzip = createGunzip({ chunkSize: 64 * 1024 });
	Readable.from([gz]).pipe(gunzip);
	let bytes = 0;
	try {
		for await (const chunk of gunzip as AsyncIterable<Buffer>) {
			bytes += chunk.length;
			if (bytes > LIMITS.decompressedBytes) {
				throw overLimit(`more than ${LIMITS.decompressedBytes / 1024 / 1024} MB of data`);
			}
			tokenizer.write(chunk);
		}
		tokenizer.end();
		if (!complete) throw new NotJson('incomplete');
	} catch (error) {
		if (error instanceof BackupError) throw error;
		if (error instanceof NotJson) {
			throw backupError(
				'not_backup',
				'The file is not a Librariarr backup (its content is not JSON).'
			);
		}
		throw backupError('damaged'); // gzip's own errors: truncated or altered
	} finally {
		gunzip.destroy();
	}
	return result;
}

const isRow = (r: unknown) => typeof r === 'object' && r !== null && !Array.isArray(r);

const HeaderSchema = v.object({
	createdAt: v.pipe(v.string(), v.maxLength(64)),
	migrations: v.pipe(v.array(v.pipe(v.string(), v.maxLength(256))), v.maxLength(1000)),
	secrets: v.picklist(['included', 'omitted']),
	tables: v.pipe(
		v.custom<Record<string, unknown>>(isRow),
		v.check((t) => Object.keys(t).length <= BACKUP_TABLES.length + 8)
	)
});

const tableSchema = (name: BackupTable) =>
	v.array(
		v.custom<Record<string, unknown>>(isRow),
		`The backup is incomplete: table "${name}" is missing.`
	);

/** The payload's shape: the header fields, then each table as an array of row objects. */
export function validatePayload(raw: unknown): Payload {
	if (!v.is(v.looseObject({ format: v.literal(FORMAT) }), raw) || Array.isArray(raw)) {
		throw backupError('not_backup');
	}
	checkVersion((raw as { version?: unknown }).version);
	const header = v.safeParse(HeaderSchema, raw);
	if (!header.success) {
		throw backupError('damaged', 'The backup is incomplete: its header fields are missing.');
	}
	const tables = header.output.tables;
	for (const name of BACKUP_TABLES) {
		const rows = v.safeParse(tableSchema(name), tables[name]);
		if (!rows.success) throw backupError('damaged', rows.issues[0].message);
		if (rows.output.length > LIMITS.rows[name]) {
			throw overLimit(`more than ${LIMITS.rows[name]} rows in "${name}"`);
		}
	}
	if ((tables.AppSettings as unknown[]).length !== 1) {
		throw backupError('damaged', 'The backup is incomplete: it has no settings row.');
	}
	return raw as Payload;
}
