/**
 * `strata aggregate show`'s fold and partition choice, without Kafka.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import { testEvent } from '../../projections/given-when-then.js';
import { aggregateAt } from '../../write-side/event-log.js';
import { partitionOfAggregate } from '../../shared/topics.js';
import shop from '../../examples/shop/app.js';

const registered = testEvent('Product', 'mug', 1, 'ProductRegistered', { name: 'Mug', description: '', priceCents: 1200, currency: 'EUR', tags: [] });
const restocked = testEvent('Product', 'mug', 2, 'ProductRestocked', { quantity: 5, onHand: 5 });
const restockedAgain = testEvent('Product', 'mug', 3, 'ProductRestocked', { quantity: 2, onHand: 7 });

describe('aggregate show', () => {
  it('folds every event for the latest version, and only those up to an earlier one', () => {
    const latest = aggregateAt(shop.domain, [registered, restocked, restockedAgain]);
    assert.equal(latest.version, 3);
    assert.equal(latest.latestVersion, 3);
    assert.equal((latest.state as { onHand: number }).onHand, 7);
    const earlier = aggregateAt(shop.domain, [registered, restocked, restockedAgain], 2);
    assert.equal(earlier.version, 2);
    assert.equal((earlier.state as { onHand: number }).onHand, 5);
    assert.deepStrictEqual(earlier.events, [registered, restocked]);
  });

  it("finds an aggregate's partition as the producers' default partitioner does", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
    for (const id of ['mug', 'order-1', 'order-2', 'x', 'a-much-longer-aggregate-id']) {
      assert.equal(partitionOfAggregate(id, 6), partitioner({ topic: 't', partitionMetadata, message: { key: id, value: null } }), id);
    }
  });
});
