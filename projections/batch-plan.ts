/**
 * What one batch of events does to a projection's documents: pure, so the rules
 * of effectively-once projection are tested without a store.
 *
 * - An event whose version the stored document already has (or passed) is
 *   skipped: it was applied before this delivery.
 * - Events of one document in the batch are folded in log order into one write,
 *   whose expected version is the stored one (compare-and-set) and whose new
 *   version is the last event's.
 * - A handler that throws sends its event to the dead letters; the document stays
 *   as it was and the batch goes on.
 * - Once an event of an aggregate is in the dead letters, the aggregate's later
 *   events join it there (held back) instead of being applied to a document that
 *   missed one: `strata dlq retry` applies them all, in order, after the fix.
 */
import { scoped } from '../shared/auth/tenants.js';
import type { EventEnvelope } from '../shared/event-envelope.js';
import { HeldEventError } from '../shared/errors.js';
import type { DocumentWrite, StoredDocument } from '../stores/projection-sink.js';
import { applyEvent, handles, type Projection } from './projection.js';

export interface FailedEvent {
  event: EventEnvelope;
  error: Error;
}

export interface BatchPlan {
  writes: DocumentWrite[];
  failed: FailedEvent[];
  /** Events already applied by an earlier delivery. */
  skipped: number;
}

/**
 * The document an event feeds: its aggregate's, within its tenant (`acme/o-1`), so
 * two tenants' aggregates of one id never share a document.
 */
export const documentIdOf = (event: Pick<EventEnvelope, 'tenant' | 'aggregateId'>) => scoped(event.tenant, event.aggregateId);

/** The ids of the documents `events` touch, for loading them before planning. */
export const documentIds = (projection: Projection, events: readonly EventEnvelope[]) => [
  ...new Set(events.filter((event) => handles(projection, event)).map(documentIdOf)),
];

/**
 * `held` names the documents whose aggregates already have an event in the dead
 * letters (the dead-letter topic says which).
 */
export function planBatch(
  projection: Projection,
  events: readonly EventEnvelope[],
  stored: ReadonlyMap<string, StoredDocument>,
  held: ReadonlySet<string> = new Set(),
): BatchPlan {
  const writes = new Map<string, DocumentWrite>();
  const failed: FailedEvent[] = [];
  const heldHere = new Set(held);
  let skipped = 0;
  for (const event of events) {
    if (!handles(projection, event)) continue;
    const id = documentIdOf(event);
    const before = stored.get(id);
    const pending = writes.get(id);
    const version = pending?.version ?? before?.version ?? 0;
    if (event.version <= version) {
      skipped++;
      continue;
    }
    if (heldHere.has(id)) {
      failed.push({ event, error: new HeldEventError(event.aggregateId) });
      continue;
    }
    const current = pending === undefined ? before?.document : (pending.document ?? undefined);
    let change;
    try {
      change = applyEvent(projection, event, current);
    } catch (error) {
      failed.push({ event, error: error instanceof Error ? error : new Error(String(error)) });
      heldHere.add(id);
      continue;
    }
    writes.set(id, {
      id,
      tenant: event.tenant,
      expectedVersion: before?.version ?? 0,
      version: event.version,
      document: change.document,
      effects: [...(pending?.effects ?? []), ...change.effects],
      events: [...(pending?.events ?? []), event],
    });
  }
  return { writes: [...writes.values()], failed, skipped };
}
