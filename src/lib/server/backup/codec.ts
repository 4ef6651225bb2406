// Reading and writing backup files: gzip, the optional passphrase encryption (scrypt, then
// AES-256-GCM with the header line as additional data) and the bounded parse.
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
import { parseEncryptedHeader, validatePayload } from './contents';
import {
	BackupError,
	backupError,
	FORMAT,
	isEncryptedFile,
	isGzip,
	KEY_CHECK_LABEL,
	LIMITS,
	MAX_UPLOAD_BYTES,
	overLimit,
	SCRYPT,
	TABLE_LIMITS,
	type EncryptedHeader,
	type Payload
} from './format';

const scrypt = promisify(scryptCb) as (
	password: string,
	salt: Buffer,
	keylen: number,
	options: ScryptOptions
) => Promise<Buffer>;
const gzip = promisify(gzipCb);

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
export async function decodeBackup(
	bytes: Buffer,
	passphrase?: string | null,
	signal?: AbortSignal
): Promise<Payload> {
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

	return validatePayload(await parseBounded(gz, signal));
}

class NotJson extends Error {}

/**
 * gunzip and JSON.parse in one bounded pass: every limit in LIMITS is checked as the bytes and
 * tokens arrive, so the first one crossed ends the work.
 */
async function parseBounded(gz: Buffer, signal?: AbortSignal): Promise<unknown> {
	// emitPartialTokens: a string still being read is reported as it grows, so its length is
	// checked before it is complete.
	const tokenizer = new Tokenizer({ stringBufferSize: 64 * 1024, emitPartialTokens: true });
	const parser = new TokenParser();
	const rows: Record<string, number> = {};
	let depth = 0;
	let values = 0;
	let result: unknown;
	let complete = false;
	// The row being read (anything that opens at depth 4: payload, tables, a table, a row), and
	// the bytes of the rows read so far, so that the rest (the payload around the rows) is
	// bounded on its own.
	let table = '';
	let row: { start: number; values: number; bytes: number } | null = null;
	let rowsBytes = 0;
	let rowsSeen = 0;
	const outsideAllowance = () =>
		LIMITS.outsideRows.bytes + rowsSeen * LIMITS.outsideRows.bytesPerRow;
	const limitsOf = (name: string) =>
		(TABLE_LIMITS as Record<string, { values: number; bytes: number }>)[name] ?? {
			values: LIMITS.rowValues,
			bytes: LIMITS.rowBytes
		};

	tokenizer.onToken = (info) => {
		const { token, value, offset } = info;
		if (token === TokenType.STRING && (value as string).length > LIMITS.stringChars) {
			throw overLimit(`a text longer than ${LIMITS.stringChars} characters`);
		}
		if (row && offset - row.start > LIMITS.rowBytes) {
			throw overLimit(`a row of more than ${LIMITS.rowBytes / 1024} KB`);
		}
		if (info.partial) return;
		if (depth === 2 && token === TokenType.STRING) table = value as string;
		if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) {
			if (++depth > LIMITS.depth) throw overLimit(`nested deeper than ${LIMITS.depth} levels`);
			if (depth === 4) row = { start: offset, values: 0, bytes: 0 };
		} else if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) {
			if (depth-- === 4 && row) {
				row.bytes = offset + 1 - row.start;
				rowsBytes += row.bytes;
				rowsSeen++;
			}
		}
		if (token !== TokenType.COLON && token !== TokenType.COMMA) {
			if (++values > LIMITS.values) throw overLimit(`more than ${LIMITS.values} values`);
			if (row && ++row.values > LIMITS.rowValues) {
				throw overLimit(`a row of more than ${LIMITS.rowValues} values`);
			}
		}
		if (!row && offset - rowsBytes > outsideAllowance()) {
			throw overLimit(`more than ${LIMITS.outsideRows.bytes / 1024} KB outside the tables' rows`);
		}
		parser.write(info);
		if (row?.bytes) {
			// The row is complete: held to its own table's limits.
			const own = limitsOf(table);
			if (row.values > own.values)
				throw overLimit(`a "${table}" row of more than ${own.values} values`);
			if (row.bytes > own.bytes) {
				throw overLimit(`a "${table}" row of more than ${own.bytes / 1024} KB`);
			}
			row = null;
		}
	};
	parser.onValue = ({ value, stack, parent }) => {
		if (stack.length === 0) {
			result = value;
			complete = true;
			return;
		}
		// A row: an element of the array at payload.tables[name].
		if (stack.length === 3 && stack[1].key === 'tables' && Array.isArray(parent)) {
			const name = String(stack[2].key);
			const max = (LIMITS.rows as Record<string, number>)[name] ?? 0;
			rows[name] = (rows[name] ?? 0) + 1;
			if (rows[name] > max) throw overLimit(`more than ${max} rows in "${name}"`);
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
			if (signal?.aborted) throw signal.reason;
			bytes += chunk.length;
			if (bytes > LIMITS.decompressedBytes) {
				throw overLimit(
					`more than ${Math.floor(LIMITS.decompressedBytes / 1024 / 1024)} MB of data`
				);
			}
			// Whitespace makes no tokens: the bytes around the rows are also counted as they come.
			if (bytes - rowsBytes - (row ? LIMITS.rowBytes : 0) > outsideAllowance()) {
				throw overLimit(`more than ${LIMITS.outsideRows.bytes / 1024} KB outside the tables' rows`);
			}
			tokenizer.write(chunk);
		}
		tokenizer.end();
		if (!complete) throw new NotJson('incomplete');
	} catch (error) {
		if (error instanceof BackupError || signal?.aborted) throw error;
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
