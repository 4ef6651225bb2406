// What a backup file must contain, as valibot schemas: the header line of an encrypted backup
// and the payload (its header fields, then each table as an array of row objects). The bounded
// parse in codec.ts has already capped sizes while reading; these check the shape. Refusals keep
// their order: not a backup at all, then a newer format, then damaged or incomplete.
import * as v from 'valibot';
import {
	BACKUP_TABLES,
	backupError,
	checkVersion,
	FORMAT,
	isEncryptedFile,
	LIMITS,
	MAX_HEADER_BYTES,
	overLimit,
	SCRYPT,
	type BackupTable,
	type EncryptedHeader,
	type Payload
} from './format';

/** Anything that says it is one of ours; the version and the rest are checked after. */
const OursSchema = v.looseObject({ format: v.literal(FORMAT) });

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Base64 that decodes to a number of bytes `accept` agrees with. */
const base64 = (accept: (bytes: number) => boolean) =>
	v.pipe(
		v.string(),
		v.regex(B64),
		v.check((s) => accept(Buffer.from(s, 'base64').length))
	);

export const EncryptedHeaderSchema = v.object({
	format: v.literal(FORMAT),
	version: v.number(),
	encrypted: v.literal(true),
	migrations: v.array(v.string()),
	kdf: v.literal('scrypt'),
	N: v.literal(SCRYPT.N),
	r: v.literal(SCRYPT.r),
	p: v.literal(SCRYPT.p),
	salt: base64((n) => n >= 16),
	iv: base64((n) => n === 12),
	tag: base64((n) => n === 16),
	check: base64(() => true)
});

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
	if (!v.is(OursSchema, raw)) throw backupError('not_backup');
	checkVersion(raw.version);
	if (!v.is(EncryptedHeaderSchema, raw)) throw backupError('damaged');
	// The header as read (its own key order, nothing stripped): it is the cipher's additional
	// data, so any change to it must make decryption fail.
	return { header: raw as EncryptedHeader, bodyStart: end + 1 };
}

const RowSchema = v.custom<Record<string, unknown>>(
	(r) => typeof r === 'object' && r !== null && !Array.isArray(r)
);

export const PayloadHeaderSchema = v.object({
	createdAt: v.pipe(v.string(), v.maxLength(64)),
	migrations: v.pipe(v.array(v.pipe(v.string(), v.maxLength(256))), v.maxLength(1000)),
	secrets: v.picklist(['included', 'omitted']),
	tables: v.pipe(
		RowSchema,
		v.check((t) => Object.keys(t).length <= BACKUP_TABLES.length + 8)
	)
});

const tableSchema = (name: BackupTable) =>
	v.pipe(
		v.array(RowSchema, `The backup is incomplete: table "${name}" is missing.`),
		v.check((rows) => rows.length <= LIMITS.rows[name], 'rows')
	);

/** The payload's shape: the header fields, then each table as an array of row objects. */
export function validatePayload(raw: unknown): Payload {
	if (!v.is(OursSchema, raw) || Array.isArray(raw)) throw backupError('not_backup');
	checkVersion(raw.version);
	const header = v.safeParse(PayloadHeaderSchema, raw);
	if (!header.success) {
		throw backupError('damaged', 'The backup is incomplete: its header fields are missing.');
	}
	const tables = header.output.tables;
	for (const name of BACKUP_TABLES) {
		const rows = v.safeParse(tableSchema(name), tables[name]);
		if (rows.success) continue;
		if (rows.issues[0].type === 'check') {
			throw overLimit(`more than ${LIMITS.rows[name]} rows in "${name}"`);
		}
		throw backupError('damaged', rows.issues[0].message);
	}
	if ((tables.AppSettings as unknown[]).length !== 1) {
		throw backupError('damaged', 'The backup is incomplete: it has no settings row.');
	}
	return raw as Payload;
}
