// The ID token signing algorithms Librariarr accepts: asymmetric ones only. Never `none`, never
// HMAC (HS256/384/512), whose key is the client secret that the app itself holds.
export const ALLOWED_ALGORITHMS = [
	'RS256',
	'RS384',
	'RS512',
	'PS256',
	'PS384',
	'PS512',
	'ES256',
	'ES384',
	'ES512',
	'EdDSA'
];

export const algorithmAccepted = (alg: string) => ALLOWED_ALGORITHMS.includes(alg);
