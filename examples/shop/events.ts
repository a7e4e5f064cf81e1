/**
 * The shop's event data as readers of the log see it (projections, the fulfilment
 * saga): the envelope's data, typed by event type from the deciders' own unions.
 */
import type { EventEnvelope } from 'strata';
import type { OrderEvent } from './orders/order.js';
import type { ProductEvent } from './products/product.js';

type DataOf<E extends { type: string; data: unknown }, T extends E['type']> = Extract<E, { type: T }>['data'];

export const orderData = <T extends OrderEvent['type']>(event: EventEnvelope, _type: T) => event.data as DataOf<OrderEvent, T>;
export const productData = <T extends ProductEvent['type']>(event: EventEnvelope, _type: T) =>
  event.data as DataOf<ProductEvent, T>;

/** Thrown by a projection for an event that cannot follow what the document holds: the event is dead-lettered. */
export function missingDocument(event: EventEnvelope): never {
  throw new Error(`${event.type} v${String(event.version)} for ${event.aggregateType} ${event.aggregateId}, which the read model does not hold`);
}
