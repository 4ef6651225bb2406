// Every environment variable the code reads is in the README's Configuration section: the ones
// readEnvironment checks, each secret's _FILE form, and every other `process.env.NAME`,
// `env.NAME`, `seam('NAME', …)` in src/ and scripts/, and every variable the image's entrypoint
// reads. A variable added without a line in the README fails here.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { FILE_FORMS, VARIABLES } from '../../src/lib/server/plain/env.js';

/** Read but not ours to document: set by the platform or by other tools. */
const NOT_OURS: Record<string, string> = {
	NODE_ENV: 'set by the image for Node itself',
	SOCKET_PATH: "adapter-node's own (a Unix socket instead of PORT)",
	LISTEN_PID: "systemd's socket activation, read through adapter-node's rule",
	LD_PRELOAD: 'set by the entrypoint for nss_wrapper, not by the admin',
	NSS_WRAPPER_PASSWD: 'set by the entrypoint for nss_wrapper',
	NSS_WRAPPER_GROUP: 'set by the entrypoint for nss_wrapper'
};

function files(dir: string): string[] {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) return files(full);
		return /\.(ts|js|svelte)$/.test(entry.name) ? [full] : [];
	});
}

function namesReadByCode(): Set<string> {
	const names = new Set<string>([...VARIABLES, ...FILE_FORMS.map((n) => `${n}_FILE`)]);
	for (const file of [...files('src'), ...files('scripts')]) {
		const text = fs.readFileSync(file, 'utf8');
		for (const m of text.matchAll(/\b(?:process\.env|env)\.([A-Z][A-Z0-9_]+)\b/g)) names.add(m[1]);
		for (const m of text.matchAll(/\b(?:seam|secretValue)\([^'")]*'([A-Z][A-Z0-9_]+)'/g))
			names.add(m[1]);
	}
	const entrypoint = fs.readFileSync('docker-entrypoint.sh', 'utf8');
	for (const m of entrypoint.matchAll(/\$\{?([A-Z][A-Z0-9_]+)/g)) names.add(m[1]);
	return names;
}

const readme = fs.readFileSync('README.md', 'utf8');
const start = readme.indexOf('\n## Configuration\n');
const configuration = readme.slice(start, readme.indexOf('\n## ', start + 1));

describe("the README's Configuration section", () => {
	const names = [...namesReadByCode()].filter((n) => !Object.hasOwn(NOT_OURS, n)).sort();

	test('finds the variables the code reads (the scan itself works)', () => {
		for (const known of [
			'DATABASE_URL',
			'DATABASE_URL_FILE',
			'METRICS_TOKEN',
			'PUID',
			'DATABASE_RETRY_MS'
		])
			expect(names).toContain(known);
	});

	test.each(names)('names %s', (name) => {
		expect(configuration).toContain(`\`${name}\``);
	});
});
