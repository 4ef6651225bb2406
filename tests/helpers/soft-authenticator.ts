// A software WebAuthn authenticator for integration tests: a real P-256 key pair that answers
// registration ("none" attestation) and sign-in requests the way a platform authenticator does,
// with knobs for what a hostile or broken one would send (another origin, another RP ID, an old
// counter, a replayed challenge). The e2e tests use Chromium's own virtual authenticator.
import crypto from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (bytes: Uint8Array) => isoBase64URL.fromBuffer(new Uint8Array(bytes));
const sha256 = (data: Uint8Array | string) => crypto.createHash('sha256').update(data).digest();

type Ceremony = { challenge: string; origin: string; rpId: string; userVerified?: boolean };

export function softAuthenticator() {
	const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
	const jwk = publicKey.export({ format: 'jwk' });
	const credentialId = crypto.randomBytes(16);
	const id = b64url(credentialId);
	let userHandle: string | null = null;

	function cosePublicKey() {
		return isoCBOR.encode(
			new Map<number, number | Uint8Array>([
				[1, 2], // kty: EC2
				[3, -7], // alg: ES256
				[-1, 1], // crv: P-256
				[-2, isoBase64URL.toBuffer(jwk.x!)],
				[-3, isoBase64URL.toBuffer(jwk.y!)]
			])
		);
	}

	function authData(rpId: string, flags: number, counter: number, attested?: Uint8Array) {
		const count = Buffer.alloc(4);
		count.writeUInt32BE(counter);
		const parts = [sha256(rpId), Buffer.from([flags]), count];
		if (attested) parts.push(Buffer.from(attested));
		return Buffer.concat(parts);
	}

	function clientData(type: string, c: Ceremony) {
		return Buffer.from(
			JSON.stringify({ type, challenge: c.challenge, origin: c.origin, crossOrigin: false })
		);
	}

	const flags = (c: Ceremony) => 0x01 | (c.userVerified === false ? 0 : 0x04);

	return {
		id,
		/** Answers navigator.credentials.create(). */
		register(c: Ceremony & { userId?: string; counter?: number }) {
			userHandle = c.userId ?? null;
			const idLength = Buffer.alloc(2);
			idLength.writeUInt16BE(credentialId.length);
			const attested = Buffer.concat([
				Buffer.alloc(16), // AAGUID: none
				idLength,
				credentialId,
				cosePublicKey()
			]);
			const attestationObject = isoCBOR.encode(
				new Map<string, unknown>([
					['fmt', 'none'],
					['attStmt', new Map()],
					['authData', authData(c.rpId, flags(c) | 0x40, c.counter ?? 0, attested)]
				]) as never
			);
			return {
				id,
				rawId: id,
				type: 'public-key',
				response: {
					clientDataJSON: b64url(clientData('webauthn.create', c)),
					attestationObject: b64url(attestationObject),
					transports: ['internal']
				},
				clientExtensionResults: {},
				authenticatorAttachment: 'platform'
			};
		},
		/** Answers navigator.credentials.get(). */
		authenticate(c: Ceremony & { counter?: number }) {
			const data = authData(c.rpId, flags(c), c.counter ?? 0);
			const client = clientData('webauthn.get', c);
			const signature = crypto.sign('sha256', Buffer.concat([data, sha256(client)]), privateKey);
			return {
				id,
				rawId: id,
				type: 'public-key',
				response: {
					clientDataJSON: b64url(client),
					authenticatorData: b64url(data),
					signature: b64url(signature),
					userHandle
				},
				clientExtensionResults: {},
				authenticatorAttachment: 'platform'
			};
		}
	};
}
