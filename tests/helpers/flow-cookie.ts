// Reads and rewrites the sealed cookie of a sign-in in progress (src/lib/server/auth/sign-in-flows.ts)
// the way only a holder of the instance key could: for tests that need a flow to have expired, or
// to look inside one. An attacker without SECRET_KEY can do neither.
import { derivedKey, loadKey } from '../../src/lib/server/crypto';
import {
	flowCookieName,
	openFlow,
	sealFlow,
	type FlowKind
} from '../../src/lib/server/auth/sign-in-flows';

const flowKey = (secretKey: string) =>
	derivedKey('sign-in-flow-cookie', loadKey({ SECRET_KEY: secretKey }));

/** What the browser's cookie of this kind holds (null when it holds none that opens). */
export function readFlowCookie<K extends FlowKind>(
	jar: Map<string, string>,
	kind: K,
	secretKey: string
) {
	return openFlow(kind, jar.get(flowCookieName(kind)), Date.now(), flowKey(secretKey));
}

/** The same flow, sealed again as the server would, but past its expiry. */
export function expireFlowCookie(jar: Map<string, string>, kind: FlowKind, secretKey: string) {
	const flow = readFlowCookie(jar, kind, secretKey);
	if (!flow) throw new Error(`no ${kind} flow in this browser`);
	const { expiresAt: _expiresAt, ...data } = flow;
	const past = Date.now() - 1000;
	jar.set(flowCookieName(kind), sealFlow(kind, data as never, past, flowKey(secretKey)));
}

/** A cookie value sealed as the server with this key would seal a flow of `kind`. */
export function sealFlowCookie<K extends FlowKind>(
	kind: K,
	data: Parameters<typeof sealFlow<K>>[1],
	secretKey: string,
	expiresAt = Date.now() + 60_000
) {
	return sealFlow(kind, data, expiresAt, flowKey(secretKey));
}
