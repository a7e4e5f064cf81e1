/**
 * Order details (Redis): everything GET /orders/{orderId} answers.
 */
import type { OrderLine, OrderStatus } from './order.js';
import { defineRedisProjection, type EventEnvelope } from 'strata';
import { missingDocument, orderData } from '../events.js';

export type OrderDetails = {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  lines: OrderLine[];
  currency: string;
  totalCents: number;
  placedAt: string;
  updatedAt: string;
  cancelReason: string | null;
};

export function orderDetailsOf(event: EventEnvelope, current: OrderDetails | undefined): OrderDetails {
  if (event.type === 'OrderPlaced') {
    const { customerId, lines, currency, totalCents } = orderData(event, 'OrderPlaced');
    return {
      orderId: event.aggregateId,
      customerId,
      status: 'placed',
      lines,
      currency,
      totalCents,
      placedAt: event.timestamp,
      updatedAt: event.timestamp,
      cancelReason: null,
    };
  }
  if (current === undefined) return missingDocument(event);
  const updatedAt = event.timestamp;
  switch (event.type) {
    case 'OrderConfirmed':
      return { ...current, status: 'confirmed', updatedAt };
    case 'OrderShipped':
      return { ...current, status: 'shipped', updatedAt };
    case 'OrderCancelled':
      return { ...current, status: 'cancelled', cancelReason: orderData(event, 'OrderCancelled').reason, updatedAt };
    default:
      throw new Error(`unexpected event type ${event.type}`);
  }
}

export const orderDetails = defineRedisProjection<OrderDetails>({
  name: 'order-details',
  version: 1,
  description: 'order status, lines and totals by order id (GET /orders/{orderId})',
  store: 'redis',
  aggregateType: 'Order',
  eventTypes: ['OrderPlaced', 'OrderConfirmed', 'OrderShipped', 'OrderCancelled'],
  project: (event, current) => ({ document: orderDetailsOf(event, current), effects: [] }),
});
