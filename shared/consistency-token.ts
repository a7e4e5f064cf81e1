/**
 * A consistency token names the events-topic offsets a write produced: a read
 * given it waits until the projection behind it has passed them. Opaque to
 * clients, bound to the tenant whose write made it (another tenant's read refuses
 * it), and signed: the command processors that issue it and the query services that
 * read it share a key (derived from STRATA_INTERNAL_SECRET), so a client cannot write
 * one naming a far-future offset and hold a read, and a query service, for the whole
 * consistency wait.
 *
 * The form: `<payload>.<mac>`, the payload base64url JSON `{v: 3, t: tenant, o: offsets}`,
 * the mac the first 128 bits of its HMAC-SHA256, base64url. Versions 1 and 2 were unsigned
 * and are refused.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors.js';

/** Events-topic partition → offset of the last event the write produced there. */
export type ProducedOffsets = Record<number, string>;

export interface ConsistencyTokens {
  encode(tenant: string, offsets: ProducedOffsets): string;
  /** The offsets of a token given to a read of `tenant`'s; ValidationError for a malformed, unsigned or forged token, or another tenant's. */
  decode(token: string, tenant: string): ProducedOffsets;
}

const macLength = 22;

export function consistencyTokens(secret: Uint8Array): ConsistencyTokens {
  const key = Buffer.from(hkdfSync('sha256', secret, new Uint8Array(), 'strata consistency token', 32));
  const macOf = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url').slice(0, macLength);
  return {
    encode(tenant, offsets) {
      const payload = Buffer.from(JSON.stringify({ v: 3, t: tenant, o: offsets })).toString('base64url');
      return `${payload}.${macOf(payload)}`;
    },
    decode(token, tenant) {
      const invalid = (why = 'is malformed') => new ValidationError(`the consistency token ${why}`, 'X-Consistency-Token');
      const match = /^([A-Za-z0-9_-]{1,4096})(?:\.([A-Za-z0-9_-]{22}))?$/.exec(token);
      if (match === null) throw invalid();
      const [, payload = '', mac] = match;
      if (mac === undefined) throw invalid('is not signed (an older form): write again, or read without it');
      if (!timingSafeEqual(Buffer.from(mac), Buffer.from(macOf(payload)))) throw invalid('is not one this platform issued');
      return offsetsOf(payload, tenant, invalid);
    },
  };
}

function offsetsOf(payload: string, tenant: string, invalid: (why?: string) => ValidationError): ProducedOffsets {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const body = parsed as { v?: unknown; t?: unknown; o?: unknown };
  if (body.v !== 3 || typeof body.t !== 'string' || typeof body.o !== 'object' || body.o === null) throw invalid();
  if (body.t !== tenant) throw invalid('was issued to another tenant');
  const offsets: ProducedOffsets = {};
  for (const [partition, offset] of Object.entries(body.o)) {
    if (!/^\d{1,5}$/.test(partition) || typeof offset !== 'string' || !/^\d{1,19}$/.test(offset)) throw invalid();
    offsets[Number(partition)] = offset;
  }
  return offsets;
}
