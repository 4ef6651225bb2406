import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeBackup, encodeBackup, inspectBackup } from '../../src/lib/server/backup/codec';
import { parseEncryptedHeader } from '../../src/lib/server/backup/contents';
import {
	backupName,
	BackupError,
	FORMAT_VERSION,
	isBackupName,
	LIMITS,
	TABLE_LIMITS,
	type Payload
} from '../../src/lib/server/backup/format';

function payload(overrides: Partial<Payload> = {}): Payload {
	return {
		format: 'librariarr-backup',
		version: FORMAT_VERSION,
		createdAt: '2026-11-27T14:05:00.000Z',
		migrations: ['0001_init.sql', '0002_sso.sql'],
		secrets: 'omitted',
		tables: {
			User: [{ id: 1, username: 'Ada', createdAt: '2026-11-27T14:05:00.123456+00:00' }],
			AppSettings: [{ id: 1, previousSsoConfig: { oidcIssuer: 'https://idp' } }],
			AuditEvent: []
		},
		...overrides
	};
}

async function refusal(promise: Promise<unknown>) {
	const error = await promise.then(
		() => null,
		(e: unknown) => e
	);
	expect(error).toBeInstanceOf(BackupError);
	return (error as BackupError).code;
}

describe('backup file names', () => {
	test('generated names are accepted and sort chronologically', () => {
		fc.assert(
			fc.property(
				fc.date({ min: new Date('2000-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
				fc.date({ min: new Date('2000-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
				fc.boolean(),
				(a, b, enc) => {
					const [na, nb] = [backupName(a, enc), backupName(b, enc)];
					expect(isBackupName(na)).toBe(true);
					expect(na.includes('/')).toBe(false);
					if (a.getTime() < b.getTime()) expect(na < nb).toBe(true);
				}
			)
		);
		expect(backupName(new Date('2026-11-27T14:05:00Z'), false)).toBe(
			'librariarr-2026-11-27T14-05-00.000Z.json.gz'
		);
		expect(isBackupName('librariarr-2026-11-27T14-05-00Z.json.gz.enc')).toBe(true);
	});

	test('anything else is refused, path traversal above all', () => {
		for (const name of [
			'../../etc/passwd',
			'..',
			'librariarr-2026-11-27T14-05-00Z.json.gz/../../x',
			'../librariarr-2026-11-27T14-05-00Z.json.gz',
			'librariarr-2026-11-27T14-05-00Z.json.gz\n',
			'librariarr-2026-11-27T14-05-00Z.json',
			'librariarr-2026-11-27T14:05:00Z.json.gz',
			'.tmp-1-abc',
			'',
			null,
			42
		]) {
			expect(isBackupName(name), String(name)).toBe(false);
		}
		fc.assert(
			fc.property(fc.string(), (s) => {
				if (isBackupName(s)) expect(s).toMatch(/^librariarr-[\dT.Z-]+\.json\.gz(\.enc)?$/);
			})
		);
	});
});

describe('encoding and decoding', () => {
	test('a plain backup is gzip and round-trips exactly', async () => {
		const bytes = await encodeBackup(payload());
		expect(inspectBackup(bytes)).toEqual({ encrypted: false });
		expect(await decodeBackup(bytes)).toEqual(payload());
	});

	test('an encrypted backup round-trips with its passphrase, and hides its content', async () => {
		const p = payload({ secrets: 'included' });
		const bytes = await encodeBackup(p, 'correct horse');
		expect(inspectBackup(bytes)).toEqual({ encrypted: true });
		expect(bytes.toString('latin1')).not.toContain('Ada');
		const { header } = parseEncryptedHeader(bytes);
		expect(header).toMatchObject({
			format: 'librariarr-backup',
			version: FORMAT_VERSION,
			encrypted: true,
			kdf: 'scrypt',
			migrations: ['0001_init.sql', '0002_sso.sql']
		});
		expect(Buffer.from(header.salt, 'base64')).toHaveLength(16);
		expect(Buffer.from(header.iv, 'base64')).toHaveLength(12);
		expect(await decodeBackup(bytes, 'correct horse')).toEqual(p);
		// fresh salt and IV every time
		const again = parseEncryptedHeader(await encodeBackup(p, 'correct horse')).header;
		expect(again.salt).not.toBe(header.salt);
		expect(again.iv).not.toBe(header.iv);
	});

	test('wrong or missing passphrase', async () => {
		const bytes = await encodeBackup(payload(), 'correct horse');
		expect(await refusal(decodeBackup(bytes, 'wrong horse'))).toBe('wrong_passphrase');
		expect(await refusal(decodeBackup(bytes))).toBe('passphrase_required');
	});

	test('tampering with the body or the header, or truncating, is detected', async () => {
		const bytes = await encodeBackup(payload(), 'correct horse');
		const flipped = Buffer.from(bytes);
		flipped[flipped.length - 5] ^= 0x01;
		expect(await refusal(decodeBackup(flipped, 'correct horse'))).toBe('damaged');
		expect(await refusal(decodeBackup(bytes.subarray(0, bytes.length - 10), 'correct horse'))).toBe(
			'damaged'
		);
		// the header is authenticated too: changing its migrations is noticed
		const text = bytes.toString('latin1').replace('0002_sso.sql', '0002_ssx.sql');
		expect(await refusal(decodeBackup(Buffer.from(text, 'latin1'), 'correct horse'))).toBe(
			'damaged'
		);
		expect(await refusal(decodeBackup(bytes.subarray(0, 20), 'correct horse'))).toBe('damaged');
	});

	test('damaged plain files, non-JSON, other files and future versions are refused', async () => {
		const bytes = await encodeBackup(payload());
		expect(await refusal(decodeBackup(bytes.subarray(0, bytes.length - 8)))).toBe('damaged');
		const flipped = Buffer.from(bytes);
		flipped[Math.floor(flipped.length / 2)] ^= 0xff;
		expect(await refusal(decodeBackup(flipped))).toMatch(/damaged|not_backup/);
		expect(await refusal(decodeBackup(gzipSync('hello, not json')))).toBe('not_backup');
		expect(await refusal(decodeBackup(gzipSync('{"some":"json"}')))).toBe('not_backup');
		expect(await refusal(decodeBackup(Buffer.from('PK\x03\x04 a zip')))).toBe('not_backup');
		expect(await refusal(decodeBackup(Buffer.alloc(0)))).toBe('not_backup');
		const future = await encodeBackup(payload({ version: FORMAT_VERSION + 1 }));
		expect(await refusal(decodeBackup(future))).toBe('future_version');
		const futureEnc = await encodeBackup(payload({ version: FORMAT_VERSION + 1 }), 'pass phrase');
		// refused from the header alone, before any passphrase is tried
		expect(await refusal(decodeBackup(futureEnc))).toBe('future_version');
		const { tables: _t, ...noTables } = payload();
		expect(await refusal(decodeBackup(gzipSync(JSON.stringify(noTables))))).toBe('damaged');
	});

	test('a gzip bomb stops at the decompressed-size cap', async () => {
		const bomb = gzipSync(Buffer.alloc(300 * 1024 * 1024, 0x20), { level: 1 });
		expect(await refusal(decodeBackup(bomb))).toBe('over_limit');
	}, 60_000);
});

describe('limits per row, derived totals', () => {
	const auditRow = (extra: Record<string, unknown> = {}) => ({
		id: 1,
		occurredAt: '2026-11-27T14:05:00.123456+00:00',
		userId: 1,
		event: 'login.failed',
		method: 'oidc',
		ip: '2001:db8::1',
		detail: { reason: 'provider_error', error: 'e'.repeat(300) },
		userAgent: 'u'.repeat(512),
		count: 1,
		lastOccurredAt: null,
		collapseKey: null,
		...extra
	});

	test('the totals are the rows at their largest, so a backup of full-size rows fits them', async () => {
		expect(LIMITS.values).toBeGreaterThan(
			TABLE_LIMITS.AuditEvent.rows * TABLE_LIMITS.AuditEvent.values
		);
		expect(LIMITS.decompressedBytes).toBeGreaterThan(
			TABLE_LIMITS.AuditEvent.rows * TABLE_LIMITS.AuditEvent.bytes
		);
		// A real audit row at its longest is well inside its row limits.
		const row = auditRow();
		expect(JSON.stringify(row).length).toBeLessThan(TABLE_LIMITS.AuditEvent.bytes);
		const decoded = await decodeBackup(
			await encodeBackup(payload({ tables: { ...payload().tables, AuditEvent: [row, row] } }))
		);
		expect(decoded.tables.AuditEvent).toHaveLength(2);
	});

	test('an audit row larger than an audit row can be is refused, though a User row may be that large', async () => {
		const big = auditRow({ userAgent: 'u'.repeat(4000) });
		const code = await refusal(
			decodeBackup(
				await encodeBackup(payload({ tables: { ...payload().tables, AuditEvent: [big] } }))
			)
		);
		expect(code).toBe('over_limit');
		const user = { id: 1, username: 'Ada', note: 'n'.repeat(4000) };
		const ok = await decodeBackup(
			await encodeBackup(payload({ tables: { ...payload().tables, User: [user] } }))
		);
		expect(ok.tables.User[0]).toEqual(user);
	});

	test('an audit row with more values than its columns allow is refused', async () => {
		const detail = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
		const code = await refusal(
			decodeBackup(
				await encodeBackup(
					payload({ tables: { ...payload().tables, AuditEvent: [auditRow({ detail })] } })
				)
			)
		);
		expect(code).toBe('over_limit');
	});

	test('more than 1 MB outside the rows (padding between them) is refused', async () => {
		const json = JSON.stringify(payload()).replace(
			'"tables":',
			`"tables":${' '.repeat(1_100_000)}`
		);
		const error = await decodeBackup(gzipSync(json)).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(BackupError);
		expect((error as BackupError).message).toContain("outside the tables' rows");
	});
});
