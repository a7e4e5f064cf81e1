/**
 * Order search (Elasticsearch): GET /orders with filters by customer, status, sku
 * and placement time, free text, and counts by status. Free text goes to `text`,
 * which the mapping fills from ids, skus and the cancel reason (copy_to), so the
 * document carries no duplicate of them.
 */
import { defineElasticsearchProjection } from 'strata';
import { orderDetailsOf, type OrderDetails } from './order-details.js';

export type OrderSearchDocument = OrderDetails & { skus: string[] };

export const orderSearch = defineElasticsearchProjection<OrderSearchDocument>({
  name: 'order-search',
  version: 1,
  description: 'order search with counts by status (GET /orders)',
  store: 'elasticsearch',
  aggregateType: 'Order',
  eventTypes: ['OrderPlaced', 'OrderConfirmed', 'OrderShipped', 'OrderCancelled'],
  project(event, current) {
    const details = orderDetailsOf(event, current);
    return { ...details, skus: details.lines.map((line) => line.sku) };
  },
  mappings: {
    dynamic: 'strict',
    properties: {
      orderId: { type: 'keyword', copy_to: 'text' },
      customerId: { type: 'keyword', copy_to: 'text' },
      status: { type: 'keyword' },
      skus: { type: 'keyword', copy_to: 'text' },
      lines: { type: 'object', enabled: false },
      currency: { type: 'keyword' },
      totalCents: { type: 'long' },
      placedAt: { type: 'date' },
      updatedAt: { type: 'date' },
      cancelReason: { type: 'text', copy_to: 'text' },
      text: { type: 'text', analyzer: 'standard' },
    },
  },
});
