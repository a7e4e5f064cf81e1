/**
 * `strata aggregate show`'s fold and partition choice, without Kafka, on the neutral
 * test domain (test/apps/counter-app.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import { testEvent } from '../../projections/given-when-then.js';
import { aggregateAt } from '../../write-side/event-log.js';
import { partitionOfAggregate } from '../../shared/topics.js';
import counterApp from '../apps/counter-app.js';

const incremented = testEvent('Counter', 'c-1', 1, 'Incremented', { by: 5, value: 5, label: 'kitchen' });
const incrementedAgain = testEvent('Counter', 'c-1', 2, 'Incremented', { by: 2, value: 7, label: 'kitchen' });
const reset = testEvent('Counter', 'c-1', 3, 'Reset', { from: 7 });

describe('aggregate show', () => {
  it('folds every event for the latest version, and only those up to an earlier one', () => {
    const latest = aggregateAt(counterApp.domain, [incremented, incrementedAgain, reset]);
    assert.equal(latest.version, 3);
    assert.equal(latest.latestVersion, 3);
    assert.deepStrictEqual(latest.state, { exists: true, value: 0, label: 'kitchen' });
    const earlier = aggregateAt(counterApp.domain, [incremented, incrementedAgain, reset], 2);
    assert.equal(earlier.version, 2);
    assert.deepStrictEqual(earlier.state, { exists: true, value: 7, label: 'kitchen' });
    assert.deepStrictEqual(earlier.events, [incremented, incrementedAgain]);
  });

  it("finds an aggregate's partition as the producers' default partitioner does", () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
    for (const id of ['c-1', 'counter-1', 'counter-2', 'x', 'a-much-longer-aggregate-id']) {
      assert.equal(partitionOfAggregate(id, 6), partitioner({ topic: 't', partitionMetadata, message: { key: id, value: null } }), id);
    }
  });
});
