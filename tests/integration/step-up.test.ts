// Step-up (issue 21) against the built server and a real PostgreSQL: every change that adds a way
// in is refused to a session older than 5 minutes without proof (and changes nothing), and is
// accepted with each proof the account can give: the current password, an authenticator code, a
// passkey assertion made now, a sign-in younger than 5 minutes. A recovery-code sign-in is never
// proof. And the lock-out rule counts only passkeys made for the current host.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { derivedKey, loadKey, seal } from '../../src/lib/server/crypto';
import {
	hashRecoveryCode,
	newRecoveryCode,
	normaliseRecoveryCode
} from '../../src/lib/server/auth/recovery-codes';
import { browser, insertAdmin, startApp, type App } from '../helpers/app';
import { softAuthenticator } from '../helpers/soft-authenticator';

const SECRET_KEY = 'step-up test key';
const key = loadKey({ SECRET_KEY });
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const PASSWORD = 'correct horse battery';

let app: App;
let adminId: number;
let origin: string;
let rpId: string;
beforeAll(async () => {
	app = await startApp({
		SECRET_KEY,
		TRUSTED_PROXIES: '127.0.0.1/32,::1/128',
		// Nothing answers here: a Plex link that gets past the proof ends in "plex_unavailable".
		PLEX_API_URL: 'http://127.0.0.1:9',
		PLEX_AUTH_URL: 'http://127.0.0.1:9'
	});
	origin = app.url;
	rpId = new URL(origin).hostname;
});
afterAll(() => app?.stop());

beforeEach(async () => {
	await app.sql`delete from "User"`;
	await app.sql`delete from "Throttle"`;
	await app.sql`
		update "AppSettings" set "localAuthEnabled" = true, "plexLoginEnabled" = false,
			"ssoEnabled" = false, "ssoMode" = 'OIDC', "oidcIssuer" = null, "oidcClientId" = null,
			"passkeyLoginEnabled" = true
	`;
	adminId = await insertAdmin(app.sql);
});

type Client = ReturnType<typeof browser>;

async function signedIn() {
	const b = browser(app.url);
	expect((await b.signIn()).status).toBe(303);
	return b;
}

/** Makes every session of the admin older than the window, with no proof given since. */
async function age() {
	await app.sql`
		update "Session" set "createdAt" = now() - interval '6 minutes', "provedAt" = null
	`;
}

async function turnTotpOn() {
	await app.sql`
		update "User" set "totpSecret" = ${seal(TOTP_SECRET, key)}, "totpLastStep" = null,
			"totpEnabledAt" = now()
		where id = ${adminId}
	`;
}

function totpCode(secret = TOTP_SECRET) {
	const step = BigInt(Math.floor(Date.now() / 30_000));
	return generateHOTP(decodeBase32IgnorePadding(secret), step, 6);
}

/** A passkey of the admin, registered while the session is fresh. */
async function addPasskey(b: Client) {
	const authenticator = softAuthenticator();
	const options = await b.post('/settings/security/passkeys/options', {});
	expect(options.status).toBe(200);
	const { challenge } = (await options.json()) as { challenge: string };
	const saved = await b.post('/settings/security/passkeys/register', {
		name: 'Laptop',
		response: JSON.stringify(authenticator.register({ challenge, origin, rpId }))
	});
	expect(saved.status).toBe(200);
	return authenticator;
}

/** A passkey assertion made now, over a challenge from the step-up endpoint. */
async function passkeyProof(b: Client, authenticator: ReturnType<typeof softAuthenticator>) {
	const res = await b.post('/settings/step-up/options', {});
	expect(res.status).toBe(200);
	const { challenge } = (await res.json()) as { challenge: string };
	return JSON.stringify(authenticator.authenticate({ challenge, origin, rpId }));
}

type Action = {
	name: string;
	/** Brings the account into the state the action starts from (the session is fresh here). */
	prepare?: (b: Client) => Promise<void>;
	post: (b: Client, proof: Record<string, string>) => Promise<Response>;
	/** Whether the action did its change. */
	changed: () => Promise<boolean>;
	/** Accepted means this status (and `changed`). */
	accepted: (res: Response) => void;
	/** Proofs that do not apply (the authenticator app cannot prove while it is being set up). */
	noCode?: boolean;
};

let optionsGiven = false;
const user = async () => (await app.sql`select * from "User" where id = ${adminId}`)[0];

const ACTIONS: Action[] = [
	{
		name: 'making recovery codes',
		post: (b, proof) => b.post('/settings/security?/recoveryCodes', proof),
		changed: async () =>
			(await app.sql`select 1 from "RecoveryCode" where "userId" = ${adminId}`).length === 10,
		accepted: (res) => expect(res.status).toBe(200)
	},
	{
		name: 'starting the authenticator app',
		noCode: true,
		post: (b, proof) => b.post('/settings/security?/totpBegin', proof),
		changed: async () => (await user()).totpPendingSecret !== null,
		accepted: (res) => expect(res.status).toBe(200)
	},
	{
		name: 'confirming the authenticator app',
		noCode: true,
		prepare: async () => {
			await app.sql`
				update "User" set "totpPendingSecret" = ${seal(TOTP_SECRET, key)} where id = ${adminId}
			`;
		},
		post: (b, proof) => b.post('/settings/security?/totpEnable', { code: totpCode(), ...proof }),
		changed: async () => (await user()).totpSecret !== null,
		accepted: (res) => expect(res.status).toBe(200)
	},
	{
		name: 'passkey registration options',
		// Options (a challenge, sealed in the browser's cookie) are the change here.
		post: async (b, proof) => {
			const res = await b.post('/settings/security/passkeys/options', proof);
			optionsGiven = res.status === 200;
			return res;
		},
		changed: async () => optionsGiven,
		accepted: (res) => expect(res.status).toBe(200)
	},
	{
		name: 'linking an SSO identity by hand',
		prepare: async () => {
			await app.sql`
				update "AppSettings" set "oidcIssuer" = 'https://idp.example.test', "oidcClientId" = 'librariarr'
			`;
		},
		post: (b, proof) =>
			b.post('/settings/authentication?/linkManual', { subject: 'user-123', ...proof }),
		changed: async () => (await user()).ssoSubject === 'user-123',
		accepted: (res) => expect(res.status).toBe(200)
	},
	{
		name: 'switching Plex sign-in on',
		prepare: async () => {
			await app.sql`update "User" set "plexId" = '4242', "plexUsername" = 'ada' where id = ${adminId}`;
		},
		post: (b, proof) =>
			b.post('/settings/authentication?/togglePlex', { enabled: 'true', ...proof }),
		changed: async () =>
			(await app.sql`select "plexLoginEnabled" from "AppSettings"`)[0].plexLoginEnabled,
		accepted: (res) => expect(res.status).toBe(200)
	},
	{
		name: 'linking a Plex account (checked before leaving for plex.tv)',
		post: (b, proof) => b.post('/api/auth/plex/start', { purpose: 'link', ...proof }),
		// Past the proof, the start goes on to plex.tv (here: unreachable, so it says so).
		changed: async () => true,
		accepted: (res) => {
			expect(res.status).toBe(303);
			expect(res.headers.get('location')).toBe(
				'/settings/authentication?plex_error=plex_unavailable'
			);
		}
	}
];

function expectRefused(action: Action, res: Response) {
	if (action.name.startsWith('linking a Plex')) {
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/settings/authentication?plex_error=step_up');
	} else {
		expect(res.status).toBe(403);
	}
}

describe.each(ACTIONS)('$name', (action) => {
	test('an aged session without proof is refused, in words, and nothing changes', async () => {
		const b = await signedIn();
		await action.prepare?.(b);
		await age();
		const res = await action.post(b, {});
		expectRefused(action, res);
		if (res.status === 403) {
			const body = await res.text();
			expect(body).toContain('This change needs proof that it is you.');
			expect(body).toContain('your current password');
		}
		if (!action.name.startsWith('linking a Plex')) expect(await action.changed()).toBe(false);
	});

	test('a wrong password is refused and counted', async () => {
		const b = await signedIn();
		await action.prepare?.(b);
		await age();
		const res = await action.post(b, { currentPassword: 'not the password' });
		if (action.name.startsWith('linking a Plex')) expectRefused(action, res);
		else expect(res.status).toBe(400);
		const throttled = await app.sql`select 1 from "Throttle" where key like 'current-password:%'`;
		expect(throttled.length).toBeGreaterThan(0);
	});

	test('accepted with the current password', async () => {
		const b = await signedIn();
		await action.prepare?.(b);
		await age();
		action.accepted(await action.post(b, { currentPassword: PASSWORD }));
		expect(await action.changed()).toBe(true);
	});

	test.skipIf(action.noCode)('accepted with an authenticator code made now, once', async () => {
		const b = await signedIn();
		await action.prepare?.(b);
		await turnTotpOn();
		await age();
		action.accepted(await action.post(b, { stepUpCode: totpCode() }));
		expect(await action.changed()).toBe(true);
		// The same step again is refused (the code was used).
		await age();
		const again = await action.post(b, { stepUpCode: totpCode() });
		if (!action.name.startsWith('linking a Plex')) expect(again.status).toBe(400);
	});

	test('accepted with a passkey assertion made now', async () => {
		const b = await signedIn();
		const authenticator = await addPasskey(b);
		optionsGiven = false;
		await action.prepare?.(b);
		await age();
		action.accepted(await action.post(b, { stepUpPasskey: await passkeyProof(b, authenticator) }));
		expect(await action.changed()).toBe(true);
	});

	test('accepted within 5 minutes of a sign-in', async () => {
		const b = await signedIn();
		await action.prepare?.(b);
		action.accepted(await action.post(b, {}));
		expect(await action.changed()).toBe(true);
	});

	test('a recovery-code sign-in, however recent, is not proof', async () => {
		const [code] = await storeRecoveryCodes(adminId);
		const b = browser(app.url);
		expect((await b.post('/login/recovery', { username: 'admin', code })).status).toBe(303);
		await action.prepare?.(b);
		const res = await action.post(b, {});
		expectRefused(action, res);
		if (res.status === 403) {
			expect(await res.text()).toContain('A sign-in with a recovery code does not count as proof.');
		}
		if (action.name === 'making recovery codes') {
			// Nine of the first ten are still unused: no new set was made.
			const rows = await app.sql`select 1 from "RecoveryCode" where "usedAt" is null`;
			expect(rows.length).toBe(9);
		} else if (!action.name.startsWith('linking a Plex')) {
			expect(await action.changed()).toBe(false);
		}
	});
});

async function storeRecoveryCodes(userId: number, count = 10) {
	const codes = Array.from({ length: count }, newRecoveryCode);
	const hmac = derivedKey('recovery-codes', key);
	for (const code of codes) {
		await app.sql`
			insert into "RecoveryCode" ("userId", "codeHash")
			values (${userId}, ${hashRecoveryCode(normaliseRecoveryCode(code)!, hmac)})
		`;
	}
	return codes;
}

describe('the rest of the rule', () => {
	test('registering the passkey itself is refused once the proof has run out', async () => {
		const b = await signedIn();
		const authenticator = softAuthenticator();
		const options = await b.post('/settings/security/passkeys/options', {});
		const { challenge } = (await options.json()) as { challenge: string };
		await age();
		const saved = await b.post('/settings/security/passkeys/register', {
			name: 'Laptop',
			response: JSON.stringify(authenticator.register({ challenge, origin, rpId }))
		});
		expect(saved.status).toBe(403);
		expect((await app.sql`select 1 from "Passkey"`).length).toBe(0);
	});

	test('a proof covers the next change for 5 minutes: new codes right after a password change', async () => {
		await storeRecoveryCodes(adminId);
		const b = await signedIn();
		await age();
		const changed = await b.post('/settings/authentication?/credentials', {
			localUsername: 'admin',
			currentPassword: PASSWORD,
			newPassword: 'a brand new passphrase',
			confirmPassword: 'a brand new passphrase'
		});
		expect(changed.status).toBe(200);
		const page = await changed.text();
		expect(page).toContain('Your 10 unused recovery codes no longer work: make new ones now.');
		expect(page).toContain('Make new recovery codes');
		expect((await app.sql`select 1 from "RecoveryCode"`).length).toBe(0);
		const codes = await b.post('/settings/security?/recoveryCodes', { signOutOthers: 'on' });
		expect(codes.status).toBe(200);
		expect((await app.sql`select 1 from "RecoveryCode"`).length).toBe(10);
	});

	test('an account without a password: the page says which proof it takes; a passkey or a recent sign-in sets one', async () => {
		const b = await signedIn();
		const authenticator = await addPasskey(b);
		await app.sql`update "User" set "passwordHash" = null where id = ${adminId}`;
		await age();
		const form = {
			localUsername: 'admin',
			currentPassword: '',
			newPassword: 'a brand new passphrase',
			confirmPassword: 'a brand new passphrase'
		};
		const refused = await b.post('/settings/authentication?/credentials', form);
		expect(refused.status).toBe(403);
		expect(await refused.text()).toContain(
			'Your account has no password. Confirm with one of your passkeys (this needs JavaScript)'
		);
		expect((await user()).passwordHash).toBeNull();
		const page = await (await b.get('/settings/security')).text();
		expect(page).toContain('Your account has no password. Confirm with one of your passkeys');
		const ok = await b.post('/settings/authentication?/credentials', {
			...form,
			stepUpPasskey: await passkeyProof(b, authenticator)
		});
		expect(ok.status).toBe(200);
		expect((await user()).passwordHash).not.toBeNull();
	});

	test('Verify & Link and linking the forward-auth request check the proof before anything else', async () => {
		await app.sql`
			update "AppSettings" set "oidcIssuer" = 'http://127.0.0.1:9', "oidcClientId" = 'librariarr'
		`;
		const b = await signedIn();
		await age();
		// (The settings page marks this browser as the one setting SSO up: not a sign-in.)
		const jarNames = () => [...b.jar.keys()].filter((name) => name !== 'librariarr_sso_setup');
		const cookies = jarNames();
		const verify = await b.post('/settings/authentication?/verifyLink', {});
		expect(verify.status).toBe(403);
		expect(jarNames()).toEqual(cookies); // no sign-in transaction was begun
		// Past the proof it goes on (and here fails at discovery: nothing answers there).
		const proven = await b.post('/settings/authentication?/verifyLink', {
			currentPassword: PASSWORD
		});
		expect(proven.status).toBe(502);

		await app.sql`update "AppSettings" set "ssoMode" = 'FORWARD_AUTH'`;
		await age();
		const request = await b.post('/settings/authentication?/linkFromRequest', {});
		expect(request.status).toBe(403);
		expect((await user()).ssoSubject).toBeNull();
	});

	test('a passkey challenge given to one session is no proof in another', async () => {
		const b = await signedIn();
		const authenticator = await addPasskey(b);
		const other = await signedIn();
		await age();
		// The step-up challenge (and its sealed cookie) of the first session, answered by the
		// authenticator, carried by the second.
		const assertion = await passkeyProof(b, authenticator);
		for (const [name, value] of b.jar) if (name.includes('step')) other.jar.set(name, value);
		const res = await other.post('/settings/security?/recoveryCodes', { stepUpPasskey: assertion });
		expect(res.status).toBe(400);
		expect((await app.sql`select 1 from "RecoveryCode"`).length).toBe(0);
	});

	test('the Security page marks a recovery-code session', async () => {
		const [code] = await storeRecoveryCodes(adminId);
		const b = browser(app.url);
		await b.post('/login/recovery', { username: 'admin', code });
		const page = await (await b.get('/settings/security')).text();
		expect(page).toContain('signed in with a recovery code');
	});

	test('deleting a passkey ends the sessions it opened; "sign out all other sessions" the rest', async () => {
		const owner = await signedIn();
		const authenticator = await addPasskey(owner);
		const viaPasskey = browser(app.url);
		const challenge = (await (await viaPasskey.post('/api/auth/passkey/options', {})).json()) as {
			challenge: string;
		};
		const signIn = await viaPasskey.post('/api/auth/passkey/login', {
			response: JSON.stringify(
				authenticator.authenticate({ challenge: challenge.challenge, origin, rpId })
			)
		});
		expect(signIn.status).toBe(200);
		const bystander = await signedIn();
		const [passkey] = await app.sql`select id from "Passkey"`;
		const res = await owner.post('/settings/security?/deletePasskey', {
			passkey: String(passkey.id)
		});
		expect(res.status).toBe(200);
		expect((await viaPasskey.get('/settings/security')).status).toBe(303);
		expect((await bystander.get('/settings/security')).status).toBe(200);
		expect((await owner.get('/settings/security')).status).toBe(200);
	});

	test('making new codes with "Sign out all other sessions" ends the others', async () => {
		const owner = await signedIn();
		const other = await signedIn();
		const res = await owner.post('/settings/security?/recoveryCodes', { signOutOthers: 'on' });
		expect(res.status).toBe(200);
		expect(await res.text()).toContain('Signed out 1 other session.');
		expect((await other.get('/settings/security')).status).toBe(303);
	});
});

describe('the lock-out rule counts only passkeys made for this host', () => {
	async function passkeyUnder(host: string) {
		await app.sql`
			insert into "Passkey" ("userId", "credentialId", "publicKey", "rpId", name)
			values (${adminId}, ${'cred-' + host}, '\\x00', ${host}, ${'made at ' + host})
		`;
	}

	test('with only a passkey made under another host, the password cannot go off', async () => {
		await passkeyUnder('localhost');
		const b = await signedIn();
		const res = await b.post('/settings/authentication?/toggleLocal', { enabled: 'false' });
		expect(res.status).toBe(409);
		const [settings] = await app.sql`select "localAuthEnabled" from "AppSettings"`;
		expect(settings.localAuthEnabled).toBe(true);
	});

	test('with a passkey made for this host, it can', async () => {
		await passkeyUnder(rpId);
		const b = await signedIn();
		const res = await b.post('/settings/authentication?/toggleLocal', { enabled: 'false' });
		expect(res.status).toBe(200);
	});

	test('passkey sign-in cannot go off and the last working passkey cannot go, whatever other hosts hold', async () => {
		await passkeyUnder('localhost');
		await passkeyUnder(rpId);
		const b = await signedIn();
		// The password off: the passkey made for this host is the only way in left.
		await app.sql`update "AppSettings" set "localAuthEnabled" = false`;
		const toggle = await b.post('/settings/security?/togglePasskeyLogin', { enabled: 'false' });
		expect(toggle.status).toBe(409);
		const [working] = await app.sql`select id from "Passkey" where "rpId" = ${rpId}`;
		const del = await b.post('/settings/security?/deletePasskey', { passkey: String(working.id) });
		expect(del.status).toBe(409);
		const [old] = await app.sql`select id from "Passkey" where "rpId" = 'localhost'`;
		const delOld = await b.post('/settings/security?/deletePasskey', { passkey: String(old.id) });
		expect(delOld.status).toBe(200);
	});
});
