/**
 * The shop as the benchmark's workload (the bench's Workload, bench/workload.ts; this
 * package's package.json names this module as "strata": { "benchWorkload" }). The write
 * load restocks, one unit at a time and round-robin, products registered before it; the
 * projection scenarios append generated shop logs (event-log.ts) and time how soon a
 * placed order shows in its details (Redis) and in the order search (Elasticsearch);
 * the read scenario reads orders, products and customers (reads.ts).
 */
import type { EventEnvelope } from 'strata';
import { customerOrders } from '../orders/customer-orders.js';
import { orderDetails } from '../orders/order-details.js';
import { orderSearch } from '../orders/order-search.js';
import { productCatalogue } from '../products/product-catalogue.js';
import { productStock } from '../products/product-stock.js';
import { everyone } from '../roles.js';
import { topProducts } from '../products/top-products.js';
import { shopEvents } from './event-log.js';
import { asFirstWritten, evolvedTypes } from './first-written.js';
import { shopReads } from './reads.js';

/** The sku of the write load's i-th product. */
const benchSku = (i: number) => `bench-${String(i)}`;

const registration = (sku: string) => ({
  type: 'RegisterProduct',
  aggregateId: sku,
  data: { name: sku, description: '', priceCents: 100, currency: 'EUR', tags: [] },
});

export default {
  // Every role of the shop: the bench's user may send every command and read every query.
  roles: everyone,
  write: {
    setup: (count: number) => Array.from({ length: count }, (_, i) => registration(benchSku(i))),
    commandType: 'RestockProduct',
    command: (i: number, count: number) => ({ aggregateId: benchSku(i % count), data: { quantity: 1 } }),
  },
  lag: {
    events: () => shopEvents({ seed: 1, products: 500, customers: 1000 }),
    sampled: (event: EventEnvelope) => event.type === 'OrderPlaced',
    redis: orderDetails.name,
    elasticsearch: orderSearch.name,
  },
  prefill: {
    events: () => shopEvents({ seed: 1, products: 10_000, customers: 100_000 }),
    catchUpRuns: [[orderDetails], [orderDetails, customerOrders, productStock, topProducts], [orderSearch], [orderSearch, productCatalogue]].map((run) => run.map((projection) => projection.name)),
    replayed: [orderDetails.name, orderSearch.name],
    evolvedTypes,
    asFirstWritten,
  },
  read: {
    events: () => shopEvents({ seed: 5, products: 2000, customers: 2000 }),
    requests: shopReads,
  },
};
