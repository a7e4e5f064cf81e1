/**
 * `strata aggregate show`'s fold, without Kafka, on the neutral test domain
 * (test/apps/counter-app.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testEvent } from '../../projections/given-when-then.js';
import { aggregateAt } from '../../write-side/event-log.js';
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

});
