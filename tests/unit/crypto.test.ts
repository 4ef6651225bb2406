import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { loadKey, open, seal } from '../../src/lib/server/crypto';

describe('secrets at rest', () => {
	const key = loadKey({ SECRET_KEY: 'a test key' });

	test('a sealed value opens with the same key and does not contain the plaintext', () => {
		const sealed = seal('s3cret:with%chars', key);
		expect(sealed).not.toContain('s3cret');
		expect(sealed.startsWith('v1:')).toBe(true);
		expect(open(sealed, key)).toBe('s3cret:with%chars');
		expect(seal('same', key)).not.toBe(seal('same', key)); // fresh IV each time
	});

	test('with another key, or tampered with, it reads as not set instead of crashing', () => {
		const sealed = seal('value', key);
		expect(open(sealed, loadKey({ SECRET_KEY: 'another key' }))).toBeNull();
		const parts = sealed.split(':');
		const body = Buffer.from(parts[3], 'base64');
		body[0] ^= 1;
		expect(open([parts[0], parts[1], parts[2], body.toString('base64')].join(':'), key)).toBeNull();
		expect(open('garbage', key)).toBeNull();
		expect(open(null, key)).toBeNull();
	});

	test('SECRET_KEY is stretched to 32 bytes; different keys differ', () => {
		expect(key).toHaveLength(32);
		expect(loadKey({ SECRET_KEY: ' a test key ' }).equals(key)).toBe(true); // surrounding spaces ignored
		expect(loadKey({ SECRET_KEY: 'x' }).equals(key)).toBe(false);
		expect(randomBytes(1)).toHaveLength(1);
	});
});
