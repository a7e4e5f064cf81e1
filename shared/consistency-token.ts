/**
 * A consistency token names the events-topic offsets a write produced: a read
 * given it waits until the projection behind it has passed them. Opaque to
 * clients (base64url JSON), versioned so its form can change.
 */
import { ValidationError } from './errors.js';

/** Events-topic partition → offset of the last event the write produced there. */
export type ProducedOffsets = Record<number, string>;

export function encodeConsistencyToken(offsets: ProducedOffsets): string {
  return Buffer.from(JSON.stringify({ v: 1, o: offsets })).toString('base64url');
}

export function decodeConsistencyToken(token: string): ProducedOffsets {
  const invalid = () => new ValidationError('the consistency token is malformed', 'X-Consistency-Token');
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(token)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const body = parsed as { v?: unknown; o?: unknown };
  if (body.v !== 1 || typeof body.o !== 'object' || body.o === null) throw invalid();
  const offsets: ProducedOffsets = {};
  for (const [partition, offset] of Object.entries(body.o)) {
    if (!/^\d{1,5}$/.test(partition) || typeof offset !== 'string' || !/^\d{1,19}$/.test(offset)) throw invalid();
    offsets[Number(partition)] = offset;
  }
  return offsets;
}
