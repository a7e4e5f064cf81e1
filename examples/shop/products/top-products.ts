/**
 * Top products (Redis): best sellers by confirmed units (GET /products/top). A
 * confirmation adds its lines' quantities to a ranking of skus; cancelling a
 * confirmed order takes them back. The per-order document remembers what was
 * counted, so that each confirmation counts exactly once.
 */
import type { OrderLine } from '../orders/order.js';
import { defineRedisProjection } from 'strata';
import { missingDocument, orderData } from '../events.js';

/** The sorted set sku → confirmed units, relative to the projection's namespace. */
export const unitsKey = 'units';

export type CountedOrder = {
  status: 'confirmed' | 'cancelled';
  /** The lines counted in the ranking; none for an order cancelled before confirmation. */
  counted: OrderLine[];
};

const count = (lines: readonly OrderLine[], sign: 1 | -1) =>
  lines.map((line) => ({ type: 'sortedSetIncrement' as const, key: unitsKey, member: line.sku, by: sign * line.quantity }));

export const topProducts = defineRedisProjection<CountedOrder>({
  name: 'top-products',
  version: 1,
  description: 'best-selling skus by confirmed units (GET /products/top)',
  store: 'redis',
  aggregateType: 'Order',
  eventTypes: ['OrderConfirmed', 'OrderCancelled'],
  project(event, current) {
    if (event.type === 'OrderConfirmed') {
      const { lines } = orderData(event, 'OrderConfirmed');
      return { document: { status: 'confirmed', counted: lines }, effects: count(lines, 1) };
    }
    const { previousStatus } = orderData(event, 'OrderCancelled');
    if (previousStatus === 'placed') return { document: { status: 'cancelled', counted: [] }, effects: [] };
    if (current?.status !== 'confirmed') return missingDocument(event);
    return { document: { status: 'cancelled', counted: [] }, effects: count(current.counted, -1) };
  },
});
