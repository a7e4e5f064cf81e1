/**
 * A consistency token names the events-topic offsets a write produced: a read
 * given it waits until the projection behind it has passed them. Opaque to
 * clients (base64url JSON), versioned so its form can change, and bound to the
 * tenant whose write made it: another tenant's read refuses it.
 */
import { defaultTenant } from './auth/principal.js';
import { ValidationError } from './errors.js';

/** Events-topic partition → offset of the last event the write produced there. */
export type ProducedOffsets = Record<number, string>;

export function encodeConsistencyToken(tenant: string, offsets: ProducedOffsets): string {
  return Buffer.from(JSON.stringify({ v: 2, t: tenant, o: offsets })).toString('base64url');
}

/** The offsets of a token given to a read of `tenant`'s; ValidationError for a malformed token or another tenant's. */
export function decodeConsistencyToken(token: string, tenant: string): ProducedOffsets {
  const invalid = (why = 'is malformed') => new ValidationError(`the consistency token ${why}`, 'X-Consistency-Token');
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(token)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const body = parsed as { v?: unknown; t?: unknown; o?: unknown };
  // Version 1 came before tenants: its writes were the default tenant's.
  const issuedTo = body.v === 1 ? defaultTenant : body.v === 2 ? body.t : undefined;
  if (typeof issuedTo !== 'string' || typeof body.o !== 'object' || body.o === null) throw invalid();
  if (issuedTo !== tenant) throw invalid('was issued to another tenant');
  const offsets: ProducedOffsets = {};
  for (const [partition, offset] of Object.entries(body.o)) {
    if (!/^\d{1,5}$/.test(partition) || typeof offset !== 'string' || !/^\d{1,19}$/.test(offset)) throw invalid();
    offsets[Number(partition)] = offset;
  }
  return offsets;
}
