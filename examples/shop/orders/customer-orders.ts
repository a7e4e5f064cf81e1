/**
 * Customer orders (Redis): a customer's latest orders, newest first
 * (GET /customers/{customerId}/orders). Each order keeps a summary document; the
 * customer's list is a sorted set of order ids by placement time, trimmed to the
 * latest `keptPerCustomer`.
 */
import type { OrderStatus } from './order.js';
import { defineRedisProjection } from 'strata';
import { missingDocument, orderData } from '../events.js';

export const keptPerCustomer = 100;

/** The sorted set of a customer's order ids, relative to the projection's namespace. */
export const customerOrdersKey = (customerId: string) => `customer:${customerId}`;

export type OrderSummary = {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  totalCents: number;
  currency: string;
  lineCount: number;
  placedAt: string;
};

export const customerOrders = defineRedisProjection<OrderSummary>({
  name: 'customer-orders',
  version: 1,
  description: "each customer's latest orders (GET /customers/{customerId}/orders)",
  store: 'redis',
  aggregateType: 'Order',
  eventTypes: ['OrderPlaced', 'OrderConfirmed', 'OrderShipped', 'OrderCancelled'],
  project(event, current) {
    if (event.type === 'OrderPlaced') {
      const { customerId, lines, currency, totalCents } = orderData(event, 'OrderPlaced');
      return {
        document: {
          orderId: event.aggregateId,
          customerId,
          status: 'placed',
          totalCents,
          currency,
          lineCount: lines.length,
          placedAt: event.timestamp,
        },
        effects: [
          {
            type: 'sortedSetAdd',
            key: customerOrdersKey(customerId),
            member: event.aggregateId,
            score: Date.parse(event.timestamp),
            keepHighest: keptPerCustomer,
          },
        ],
      };
    }
    if (current === undefined) return missingDocument(event);
    const status = ({ OrderConfirmed: 'confirmed', OrderShipped: 'shipped', OrderCancelled: 'cancelled' } as const)[
      event.type as 'OrderConfirmed' | 'OrderShipped' | 'OrderCancelled'
    ];
    return { document: { ...current, status }, effects: [] };
  },
});
