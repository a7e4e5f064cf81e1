/**
 * What the shop's projections share beyond the typed event data (write-side/shop/shop-events.ts).
 */
import type { EventEnvelope } from '../../shared/event-envelope.js';

/** Thrown for an event that cannot follow what the document holds: the event is dead-lettered. */
export function missingDocument(event: EventEnvelope): never {
  throw new Error(`${event.type} v${String(event.version)} for ${event.aggregateType} ${event.aggregateId}, which the read model does not hold`);
}
