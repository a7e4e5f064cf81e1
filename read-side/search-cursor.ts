/**
 * Search cursors: the `search_after` position of the last hit on a page, opaque
 * to clients and signed (HMAC-SHA256 with STRATA_CURSOR_SECRET), bound to the
 * tenant that received it and the query's filters. A cursor that was altered, made
 * up, or taken to a search with other filters or by another tenant is refused as a 400 naming `cursor`, before anything reaches
 * Elasticsearch. Being signed rather than stored, a cursor works on any query
 * instance that shares the secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../shared/errors.js';
import type { SortValues } from '../stores/elasticsearch/elasticsearch-read-model.js';

const signatureBytes = 16;

/** A canonical text of the tenant and the filters a cursor belongs to (every search parameter but size and cursor). */
export function queryBinding(route: string, tenant: string, filters: Record<string, unknown>): string {
  const entries = Object.entries(filters)
    .filter(([name, value]) => value !== undefined && name !== 'size' && name !== 'cursor')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([route, tenant, entries]);
}

const sign = (secret: string, binding: string, payload: string) =>
  createHmac('sha256', secret).update(binding).update('\n').update(payload).digest().subarray(0, signatureBytes);

export function encodeCursor(secret: string, binding: string, after: SortValues): string {
  const payload = Buffer.from(JSON.stringify(after)).toString('base64url');
  return `${payload}.${sign(secret, binding, payload).toString('base64url')}`;
}

export function decodeCursor(secret: string, binding: string, cursor: string): SortValues {
  const refused = new ValidationError('the cursor is malformed, altered, or belongs to a search with other filters', 'cursor');
  const [payload, signature, extra] = cursor.split('.');
  if (payload === undefined || signature === undefined || extra !== undefined) throw refused;
  const given = Buffer.from(signature, 'base64url');
  const expected = sign(secret, binding, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refused;
  let after: unknown;
  try {
    after = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw refused;
  }
  // Signed by us, so well formed; checked all the same, as nothing unchecked goes to Elasticsearch.
  const valid =
    Array.isArray(after) &&
    after.length > 0 &&
    after.length <= 4 &&
    after.every((value) => typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)));
  if (!valid) throw refused;
  return after as SortValues;
}
