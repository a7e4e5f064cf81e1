/**
 * A generated shop event log, for projection tests and benchmarks: realistic
 * streams (products registered and restocked, orders placed, stock reserved,
 * orders confirmed, shipped or cancelled with their stock released) decided by
 * the reference deciders themselves, so versions are gapless and every event is
 * one the write side could have committed. Deterministic for a seed.
 *
 * Appending them straight to the events topic is how a projector's input looks
 * without running the write side, and fills a log of a million events quickly. The
 * shop's bench workload (workload.ts) draws its logs from here, and Strata's
 * integration tests theirs.
 */
import type { EventEnvelope } from 'strata';
import { decidedLog, seededRandom } from 'strata/testing';
import shop from '../app.js';

export interface ShopLogOptions {
  seed: number;
  products: number;
  customers: number;
}

/** An endless, deterministic stream of shop events. */
export function* shopEvents(options: ShopLogOptions): Generator<EventEnvelope, never> {
  const next = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const skus: string[] = [];

  const run = decidedLog(shop.domain, options.seed, next);

  const tags = ['kitchen', 'garden', 'office', 'toys', 'books', 'sale'];
  let orders = 0;
  for (;;) {
    if (skus.length < options.products) {
      const sku = `sku-${String(options.seed)}-${String(skus.length + 1)}`;
      skus.push(sku);
      yield* run('RegisterProduct', sku, {
        name: `${pick(['Blue', 'Red', 'Small', 'Large'])} ${pick(['mug', 'lamp', 'chair', 'kite'])} ${sku}`,
        description: `Generated product ${sku}`,
        priceCents: 100 + Math.floor(next() * 10_000),
        currency: 'EUR',
        tags: [...new Set([pick(tags), pick(tags)])],
      });
      yield* run('RestockProduct', sku, { quantity: 50 + Math.floor(next() * 200) });
      continue;
    }
    const roll = next();
    if (roll < 0.1) {
      yield* run('RestockProduct', pick(skus), { quantity: 10 + Math.floor(next() * 100) });
      continue;
    }
    if (roll < 0.15) {
      yield* run('ChangeProductPrice', pick(skus), { priceCents: 100 + Math.floor(next() * 10_000) });
      continue;
    }
    const orderId = `order-${String(options.seed)}-${String(++orders)}`;
    const lineSkus = [...new Set(Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(skus)))];
    const lines = lineSkus.map((sku) => ({ sku, quantity: 1 + Math.floor(next() * 5), unitPriceCents: 100 + Math.floor(next() * 5000) }));
    yield* run('PlaceOrder', orderId, { customerId: `customer-${String(1 + Math.floor(next() * options.customers))}`, lines, currency: 'EUR' });
    const reserved: string[] = [];
    let rejected = false;
    for (const line of lines) {
      const events = run('ReserveStock', line.sku, { orderId, quantity: line.quantity });
      yield* events;
      if (events[0]?.type === 'StockReserved') reserved.push(line.sku);
      else rejected = true;
    }
    const release = function* () {
      for (const sku of reserved) yield* run('ReleaseStock', sku, { orderId });
    };
    if (rejected) {
      yield* release();
      yield* run('CancelOrder', orderId, { reason: 'out_of_stock' });
      continue;
    }
    yield* run('ConfirmOrder', orderId, {});
    const outcome = next();
    if (outcome < 0.5) yield* run('ShipOrder', orderId, {});
    else if (outcome < 0.6) {
      yield* release();
      yield* run('CancelOrder', orderId, { reason: 'customer_request' });
    }
  }
}
