// The health probe behind /healthz (Docker's HEALTHCHECK, load balancers): healthy means the
// database answers a trivial query in time.
import { sql } from './db';

/** True when the database answers `select 1` within `ms`. */
export async function databaseAnswers(ms = 2000): Promise<boolean> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
	try {
		return await Promise.race([sql`select 1`.then(() => true), timeout]);
	} catch {
		return false;
	} finally {
		clearTimeout(timer);
	}
}
