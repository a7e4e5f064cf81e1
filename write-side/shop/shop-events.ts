/**
 * The shop's event data as readers of the log see it (projections, the fulfilment
 * saga): the envelope's data, typed by event type from the deciders' own unions.
 */
import type { EventEnvelope } from '../../shared/event-envelope.js';
import type { OrderEvent } from './order.js';
import type { ProductEvent } from './product.js';

type DataOf<E extends { type: string; data: unknown }, T extends E['type']> = Extract<E, { type: T }>['data'];

export const orderData = <T extends OrderEvent['type']>(event: EventEnvelope, _type: T) => event.data as DataOf<OrderEvent, T>;
export const productData = <T extends ProductEvent['type']>(event: EventEnvelope, _type: T) =>
  event.data as DataOf<ProductEvent, T>;
