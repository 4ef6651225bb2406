// GET /api/v1/openapi.json: an OpenAPI 3.1 description of /api/v1, generated from the valibot
// schemas the routes answer with and parse their input with ($lib/schemas/api.ts), by
// @valibot/to-json-schema. Built once per process; tests check real answers against it.
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import pkg from '../../../../package.json';
import {
	apiErrorSchema,
	backupCreatedSchema,
	backupsSchema,
	historyPageSchema,
	sessionEndedSchema,
	sessionIdSchema,
	sessionsSchema,
	systemStatusSchema
} from '../../schemas/api';

const COMPONENTS = {
	Error: apiErrorSchema,
	SystemStatus: systemStatusSchema,
	HistoryPage: historyPageSchema,
	Sessions: sessionsSchema,
	SessionEnded: sessionEndedSchema,
	Backups: backupsSchema,
	BackupCreated: backupCreatedSchema
} as const;

type Component = keyof typeof COMPONENTS;

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of a schema, without its `$schema` line. */
function jsonSchema(schema: v.GenericSchema, typeMode: 'input' | 'output' = 'output') {
	const { $schema: _dialect, ...rest } = toJsonSchema(schema, {
		target: 'draft-2020-12',
		typeMode,
		errorMode: 'ignore'
	});
	return rest;
}

const ref = (name: Component) => ({ $ref: `#/components/schemas/${name}` });
const body = (name: Component, description: string) => ({
	description,
	content: { 'application/json': { schema: ref(name) } }
});
const refusals = (...codes: number[]) =>
	Object.fromEntries(
		codes.map((code) => [String(code), { $ref: `#/components/responses/R${code}` }])
	);
const REFUSALS: Record<number, string> = {
	400: 'A key in the query string, a cookie with a key, or bad input.',
	401: 'No key, or a wrong, expired or revoked one (WWW-Authenticate: Bearer).',
	403: 'The key is read-only and this needs the full scope.',
	404: 'Nothing of that id.',
	429: 'Too many wrong keys from this address (Retry-After).',
	503: 'The database or the backup folder is unavailable.',
	507: 'The backup folder is full or read-only.'
};

function operation(
	summary: string,
	scope: 'read' | 'full',
	ok: [number, Component, string],
	extra: Record<string, unknown> = {},
	refused: number[] = []
) {
	return {
		summary,
		description: `Needs a key with the “${scope}” scope${scope === 'read' ? ' (or “full”)' : ''}.`,
		...extra,
		responses: {
			[String(ok[0])]: body(ok[1], ok[2]),
			...refusals(400, 401, ...(scope === 'full' ? [403] : []), 429, ...refused)
		}
	};
}

function build() {
	return {
		openapi: '3.1.0',
		info: {
			title: 'Librariarr API',
			version: pkg.version,
			description:
				'For scripts and dashboards. Send an API key (Settings → Security → API keys) as `X-Api-Key: <key>` or `Authorization: Bearer <key>`, never in the query string. A key reaches /api/v1 only.'
		},
		servers: [{ url: '/api/v1' }],
		security: [{ apiKey: [] }, { bearer: [] }],
		paths: {
			'/system/status': {
				get: operation('Version, uptime, sign-in methods, database', 'read', [
					200,
					'SystemStatus',
					'The status.'
				])
			},
			'/auth/history': {
				get: operation(
					'The sign-in history, 25 a page, newest first',
					'read',
					[200, 'HistoryPage', 'One page.'],
					{
						parameters: [
							{
								name: 'page',
								in: 'query',
								required: false,
								schema: { type: 'string', pattern: '^[1-9]\\d{0,5}$', default: '1' }
							}
						]
					}
				)
			},
			'/auth/sessions': {
				get: operation('The key owner’s live sessions', 'read', [200, 'Sessions', 'The sessions.'])
			},
			'/auth/sessions/{id}': {
				delete: operation(
					'Signs one of the key owner’s sessions out',
					'full',
					[200, 'SessionEnded', 'It was signed out.'],
					{
						parameters: [
							{
								name: 'id',
								in: 'path',
								required: true,
								schema: jsonSchema(sessionIdSchema, 'input')
							}
						]
					},
					[404]
				)
			},
			'/backups': {
				get: operation('The backups of every instance', 'read', [200, 'Backups', 'The list.']),
				post: operation(
					'Makes a backup now (with the saved passphrase, if any)',
					'full',
					[201, 'BackupCreated', 'Its name.'],
					{},
					[503, 507]
				)
			}
		},
		components: {
			schemas: Object.fromEntries(
				Object.entries(COMPONENTS).map(([name, schema]) => [name, jsonSchema(schema)])
			),
			responses: Object.fromEntries(
				Object.entries(REFUSALS).map(([code, description]) => [
					`R${code}`,
					body('Error', description)
				])
			),
			securitySchemes: {
				apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
				bearer: { type: 'http', scheme: 'bearer' }
			}
		}
	};
}

let built: ReturnType<typeof build> | null = null;

export function openApiDocument() {
	return (built ??= build());
}
