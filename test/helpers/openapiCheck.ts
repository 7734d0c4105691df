import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { OPENAPI } from '../../verifier/gateway/openapi.ts';

const DOC_ID = 'https://zkinfer.invalid/openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema({ ...structuredClone(OPENAPI), $id: DOC_ID });

const pointer = (parts: readonly string[]) =>
  parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Errors of a response against the OpenAPI document: the route (as written in `paths`), method and
 * status must be documented, and a JSON body must match the documented schema. Empty: it matches.
 */
export function responseErrors(route: string, method: string, status: number, body: unknown): string[] {
  const op = (OPENAPI.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)[
    route
  ]?.[method.toLowerCase()];
  if (!op) return [`${method} ${route} is not documented`];
  const response = op.responses[String(status)] as { content?: Record<string, unknown> } | undefined;
  if (!response) return [`${method} ${route} does not document status ${status}`];
  if (!response.content?.['application/json']) return [];
  const validate = ajv.compile({
    $ref: `${DOC_ID}#/${pointer(['paths', route, method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema'])}`,
  });
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
