import { json } from '@sveltejs/kit';
import { openApiDocument } from '$lib/server/api/openapi';
import type { RequestHandler } from './$types';

/** The API's description; needs no key (it holds nothing but the shapes). */
export const GET: RequestHandler = () => json(openApiDocument());
