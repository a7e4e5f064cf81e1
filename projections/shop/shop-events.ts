/**
 * The shop's event data as projections see it: the envelope's data, typed by event
 * type from the deciders' own event unions.
 */
import type { EventEnvelope } from '../../shared/event-envelope.js';
import type { OrderEvent } from '../../write-side/shop/order.js';
import type { ProductEvent } from '../../write-side/shop/product.js';

type DataOf<E extends { type: string; data: unknown }, T extends E['type']> = Extract<E, { type: T }>['data'];

export const orderData = <T extends OrderEvent['type']>(event: EventEnvelope, _type: T) => event.data as DataOf<OrderEvent, T>;
export const productData = <T extends ProductEvent['type']>(event: EventEnvelope, _type: T) =>
  event.data as DataOf<ProductEvent, T>;

/** Thrown for an event that cannot follow what the document holds: the event is dead-lettered. */
export function missingDocument(event: EventEnvelope): never {
  throw new Error(`${event.type} v${String(event.version)} for ${event.aggregateType} ${event.aggregateId}, which the read model does not hold`);
}
