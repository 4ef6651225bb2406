import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './pg.js';

declare module 'vitest' {
	export interface ProvidedContext {
		pg: { adminUrl: string; template: string; prefix: string };
	}
}

export default async function setup(project: TestProject) {
	const pg = await startTestPostgres();
	console.log(`Test PostgreSQL: ${pg.kind}`);
	project.provide('pg', { adminUrl: pg.adminUrl, template: pg.template, prefix: pg.prefix });
	return () => pg.stop();
}
