// The first round trip of a password sign-in, before the hash is checked: in one statement, the
// settings that decide whether the password form is offered, the account's stored hash, and the
// throttle's count (throttle.ts), which stays atomic and runs only while the form is offered.
//
// Whether the form is offered is the one rule's decision (rule/ways-in.ts), made in JavaScript.
// SQL only reads the facts it depends on (what counts as a password is rule/inputs.ts's); the statement counts the attempt when those facts are
// among the combinations for which the rule offers the form, a list the rule itself produces here.
// The known-device cookie (known-device.ts) names an account; whether it is the account the
// username names is also only known inside the statement, so SQL chooses there between a known
// browser's keys and a stranger's.
import type { Cookies } from '@sveltejs/kit';
import { commitWithoutFlush, sql } from '../db';
import { passwordCounts, waysEnvironment } from '../rule/inputs';
import { isConfigured } from '../rule/linked';
import { offeredWays } from '../rule/ways-in';
import { knownDeviceAnyUser } from './known-device';
import {
	countingCtes,
	secretCheckRules,
	verdictOf,
	type CountedRow,
	type CountStep,
	type ThrottleRule,
	type Verdict
} from './throttle';

/** The stored facts the password form depends on, in the order SQL writes them as 0s and 1s. */
const FACTS = [
	'localAuthEnabled',
	'ssoEnabled',
	'forwardAuth',
	'issuerSet',
	'clientIdSet',
	'anyPassword'
] as const;
type Facts = Record<(typeof FACTS)[number], boolean>;

/** Whether the rule offers the password form, for these stored facts and this environment. */
export function passwordFormOffered(facts: Facts): boolean {
	const ssoMode = facts.forwardAuth ? 'FORWARD_AUTH' : 'OIDC';
	const configured = isConfigured({
		ssoMode,
		oidcIssuer: facts.issuerSet ? 'set' : null,
		oidcClientId: facts.clientIdSet ? 'set' : null
	});
	return offeredWays(
		{
			localAuthEnabled: facts.localAuthEnabled,
			plexLoginEnabled: false,
			ssoEnabled: facts.ssoEnabled,
			ssoMode,
			ssoConfigured: configured
		},
		// Who is linked to SSO or Plex changes what else is offered, never the password form.
		[{ hasPassword: facts.anyPassword, hasPlex: false, ssoLinked: false }],
		waysEnvironment()
	).local;
}

const factsOf = (bits: string): Facts =>
	Object.fromEntries(FACTS.map((name, i) => [name, bits[i] === '1'])) as Facts;

/** Every combination of facts (as SQL writes it) for which the rule offers the form. */
function offeredCombinations(): string[] {
	const all = Array.from({ length: 2 ** FACTS.length }, (_, n) =>
		n.toString(2).padStart(FACTS.length, '0')
	);
	return all.filter((bits) => passwordFormOffered(factsOf(bits)));
}

export type PasswordAttempt = {
	/** Whether the password form is offered; when not, nothing was counted. */
	formOffered: boolean;
	/** totpOn: the account asks for an authenticator code after the password (totp.ts). */
	/** localPaused: a "Not me" paused the password (not-me.ts). */
	user: {
		id: number;
		passwordHash: string | null;
		totpOn: boolean;
		localPaused: boolean;
	} | null;
	/** The keys this attempt was counted on (for giving back after the right password). */
	rules: ThrottleRule[];
	verdict: Verdict;
};

/** Reads and counts a password attempt in one round trip. */
export async function startPasswordAttempt(who: {
	ip: string;
	username: string;
	cookies: Cookies;
}): Promise<PasswordAttempt> {
	const claim = knownDeviceAnyUser(who.cookies);
	const strangerRules = secretCheckRules('password', { ip: who.ip, account: who.username });
	const deviceRules = claim
		? secretCheckRules('password', { ip: who.ip, account: who.username, device: claim.deviceId })
		: strangerRules;
	const ownDevice = sql`(select id from account) = ${claim?.userId ?? null}::int`;
	// A known browser counts under its two keys, a stranger under three: SQL picks per step.
	const steps: CountStep[] = claim
		? strangerRules.map((otherwise, i) => ({
				when: ownDevice,
				then: deviceRules[i] ?? null,
				otherwise
			}))
		: strangerRules;
	const [row] = await sql<
		{
			facts: string;
			userId: number | null;
			passwordHash: string | null;
			totpOn: boolean | null;
			localPaused: boolean | null;
			counts: CountedRow[];
		}[]
	>`
		with facts as (
			select concat(a."localAuthEnabled"::int, a."ssoEnabled"::int,
				(a."ssoMode" = 'FORWARD_AUTH')::int, (coalesce(a."oidcIssuer", '') <> '')::int,
				(coalesce(a."oidcClientId", '') <> '')::int,
				(exists (select 1 from "User" u where ${passwordCounts(sql)}))::int) as bits
			from "AppSettings" a where a.id = 1
		),
		account as (
			select id, "passwordHash", "totpSecret" is not null as "totpOn",
				'local' = any("pausedMethods") as "localPaused"
			from "User" where "localUsername" = ${who.username.toLowerCase()}
		),
		${countingCtes(steps, sql`(select bits from facts) = any(${offeredCombinations()}::text[])`)}
		select (select bits from facts) as facts, (select id from account) as "userId",
			(select "passwordHash" from account) as "passwordHash",
			(select "totpOn" from account) as "totpOn",
			(select "localPaused" from account) as "localPaused",
			coalesce((select json_agg(c order by c.step) from counted c), '[]') as counts,
			${commitWithoutFlush()} as "commitWithoutFlush"
	`;
	const user =
		row.userId === null
			? null
			: {
					id: row.userId,
					passwordHash: row.passwordHash,
					totpOn: row.totpOn === true,
					localPaused: row.localPaused === true
				};
	return {
		formOffered: passwordFormOffered(factsOf(row.facts)),
		user,
		rules: claim && user?.id === claim.userId ? deviceRules : strangerRules,
		verdict: verdictOf(steps, row.counts)
	};
}
