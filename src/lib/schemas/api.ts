// The /api/v1 answers and inputs (issue 28), as valibot schemas: the routes parse their inputs
// with them, and openapi.json is generated from them (src/lib/server/api/openapi.ts), so the
// document cannot drift from what the API checks and answers. Tests parse real answers with them.
import * as v from 'valibot';
import { textField } from './fields';

const time = v.pipe(v.string(), v.isoTimestamp());
const nullable = <T extends v.GenericSchema>(schema: T) => v.nullable(schema);

export const apiErrorSchema = v.object({ error: v.string() });

export const systemStatusSchema = v.object({
	version: v.string(),
	uptimeSeconds: v.pipe(v.number(), v.integer(), v.minValue(0)),
	database: v.picklist(['ok']),
	signIn: v.object({
		password: v.boolean(),
		plex: v.boolean(),
		sso: v.picklist(['off', 'probe', 'enabled']),
		passkey: v.boolean()
	})
});

export const historyQuerySchema = v.object({
	page: v.optional(
		v.pipe(
			v.string(),
			v.regex(/^[1-9]\d{0,5}$/, 'The page number must be a whole number from 1.'),
			v.transform(Number)
		),
		'1'
	)
});

export const historyEntrySchema = v.object({
	id: v.string(),
	occurredAt: time,
	event: v.string(),
	eventLabel: v.string(),
	method: nullable(v.string()),
	ip: nullable(v.string()),
	browser: v.string(),
	system: v.string(),
	username: nullable(v.string()),
	reason: nullable(v.string()),
	count: v.number(),
	lastOccurredAt: nullable(time)
});

export const historyPageSchema = v.object({
	page: v.number(),
	pages: v.number(),
	total: v.number(),
	entries: v.array(historyEntrySchema)
});

export const sessionSchema = v.object({
	id: v.pipe(v.string(), v.uuid()),
	method: v.string(),
	browser: v.string(),
	system: v.string(),
	ip: nullable(v.string()),
	createdAt: time,
	lastSeenAt: time
});

export const sessionsSchema = v.object({ sessions: v.array(sessionSchema) });

export const sessionIdSchema = v.pipe(
	v.string(),
	textField,
	v.uuid('That is not a session id (a UUID from GET /api/v1/auth/sessions).')
);

export const sessionEndedSchema = v.object({ ended: v.pipe(v.string(), v.uuid()) });

export const backupSchema = v.object({
	name: v.string(),
	size: v.number(),
	encrypted: v.boolean(),
	createdAt: time,
	instance: v.string(),
	here: v.boolean()
});

export const backupsSchema = v.object({ backups: v.array(backupSchema) });

export const backupCreatedSchema = v.object({
	name: v.string(),
	encrypted: v.boolean(),
	message: v.string()
});
