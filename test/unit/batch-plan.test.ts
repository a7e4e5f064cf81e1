/**
 * The rules of effectively-once projection, without a store: skipping what the
 * store already holds, folding a document's events into one compare-and-set
 * write, and dead-lettering what a handler refuses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { documentIds, planBatch } from '../../projections/batch-plan.js';
import { testEvent } from '../../projections/given-when-then.js';
import { topProducts } from '../../examples/shop/products/top-products.js';
import { productStock } from '../../examples/shop/products/product-stock.js';

const lines = [{ sku: 'mug', quantity: 2, unitPriceCents: 1200 }];
const placed = testEvent('Order', 'o-1', 1, 'OrderPlaced', { customerId: 'ada', lines, currency: 'EUR', totalCents: 2400 });
const confirmed = testEvent('Order', 'o-1', 2, 'OrderConfirmed', { lines });
const cancelled = testEvent('Order', 'o-1', 3, 'OrderCancelled', { reason: 'r', previousStatus: 'confirmed' });
const registered = testEvent('Product', 'mug', 1, 'ProductRegistered', { name: 'Mug', description: '', priceCents: 1, currency: 'EUR', tags: [] });

describe('batch plan', () => {
  it('folds the events of one document into one write from the stored version to the last event', () => {
    const plan = planBatch(topProducts, [placed, confirmed, cancelled], new Map());
    assert.equal(plan.writes.length, 1);
    const [write] = plan.writes;
    assert.equal(write?.expectedVersion, 0);
    assert.equal(write.version, 3);
    assert.deepStrictEqual(write.document, { status: 'cancelled', counted: [] });
    assert.deepStrictEqual(write.effects.map((effect) => effect.type === 'sortedSetIncrement' && effect.by), [2, -2]);
    assert.deepStrictEqual(write.events, [confirmed, cancelled]);
  });

  it('skips events the stored document already has, so a redelivery does not count twice', () => {
    const stored = new Map([['o-1', { version: 2, document: { status: 'confirmed', counted: lines } }]]);
    const plan = planBatch(topProducts, [placed, confirmed], stored);
    assert.deepStrictEqual(plan.writes, []);
    assert.equal(plan.skipped, 1, 'OrderPlaced is not handled at all; OrderConfirmed is skipped');
  });

  it('applies only the part of a batch that is newer than the store, expecting the stored version', () => {
    const stored = new Map([['o-1', { version: 2, document: { status: 'confirmed', counted: lines } }]]);
    const [write] = planBatch(topProducts, [confirmed, cancelled], stored).writes;
    assert.equal(write?.expectedVersion, 2);
    assert.equal(write.version, 3);
    assert.deepStrictEqual(write.events, [cancelled]);
  });

  it('dead-letters an event its handler refuses and goes on with the next ones', () => {
    const orphan = testEvent('Product', 'ghost', 4, 'ProductRestocked', { quantity: 1, onHand: 1 });
    const plan = planBatch(productStock, [orphan, registered], new Map());
    assert.deepStrictEqual(plan.failed.map((failure) => failure.event), [orphan]);
    assert.match(plan.failed[0]?.error.message ?? '', /does not hold/);
    assert.deepStrictEqual(plan.writes.map((write) => write.id), ['mug']);
  });

  it('holds back the later events of an aggregate whose event was refused, so nothing is applied out of order', () => {
    const orphan = testEvent('Product', 'ghost', 4, 'ProductRestocked', { quantity: 1, onHand: 1 });
    const later = testEvent('Product', 'ghost', 5, 'ProductRestocked', { quantity: 2, onHand: 3 });
    const plan = planBatch(productStock, [orphan, registered, later], new Map());
    assert.deepStrictEqual(plan.failed.map((failure) => [failure.event, failure.error.name]), [
      [orphan, 'Error'],
      [later, 'HeldEventError'],
    ]);
    assert.deepStrictEqual(plan.writes.map((write) => write.id), ['mug']);
  });

  it('holds back every event of an aggregate that already waits in the dead letters', () => {
    const stored = new Map([['o-1', { version: 1, document: { status: 'placed', counted: [] } }]]);
    const plan = planBatch(topProducts, [confirmed, cancelled], stored, new Set(['o-1']));
    assert.deepStrictEqual(plan.writes, []);
    assert.deepStrictEqual(plan.failed.map((failure) => failure.event), [confirmed, cancelled]);
    assert.match(plan.failed[0]?.error.message ?? '', /dlq retry|retried/);
  });

  it('loads only the documents of events the projection handles', () => {
    assert.deepStrictEqual(documentIds(productStock, [placed, registered, registered]), ['mug']);
  });
});
