/**
 * The reads of the bench's read scenario over the shop. By-key reads rotate over
 * GET /orders/{id}, /products/{sku}, /customers/{id}/orders and /products/top;
 * searches over order searches by customer and by status, and catalogue searches by
 * words and by tag and price. Ids are drawn from the events appended so far, so reads
 * find what they ask for.
 */
import type { EventEnvelope } from 'strata';

/** A deterministic spread over a list: the i-th request's pick. */
const spread = <T>(items: readonly T[], i: number): T => items[(i * 7919) % items.length] as T;

const statuses = ['placed', 'confirmed', 'shipped', 'cancelled'];
const words = ['blue mug', 'red lamp', 'small chair', 'large kite'];
const tags = ['kitchen', 'garden', 'office', 'toys', 'books', 'sale'];

export function shopReads() {
  const orders: string[] = [];
  const customers = new Set<string>();
  const customerIds: string[] = [];
  const skus: string[] = [];
  return {
    observe(event: EventEnvelope): void {
      if (event.type === 'OrderPlaced') {
        orders.push(event.aggregateId);
        const { customerId } = event.data as { customerId: string };
        if (!customers.has(customerId)) customerIds.push(customerId);
        customers.add(customerId);
      } else if (event.type === 'ProductRegistered') skus.push(event.aggregateId);
    },
    held: () => `${String(orders.length)} orders, ${String(skus.length)} products`,
    byKey(i: number): { path: string } {
      switch (i % 4) {
        case 0:
          return { path: `/orders/${spread(orders, i)}` };
        case 1:
          return { path: `/products/${spread(skus, i)}` };
        case 2:
          return { path: `/customers/${spread(customerIds, i)}/orders?limit=10` };
        default:
          return { path: '/products/top?limit=10' };
      }
    },
    search(i: number): { path: string } {
      switch (i % 4) {
        case 0:
          return { path: `/orders?customerId=${spread(customerIds, i)}&size=20` };
        case 1:
          return { path: `/orders?status=${spread(statuses, i)}&size=20` };
        case 2:
          return { path: `/products?q=${spread(words, i).replace(' ', '%20')}&size=20` };
        default:
          return { path: `/products?tag=${spread(tags, i)}&minPriceCents=1000&size=20` };
      }
    },
  };
}
