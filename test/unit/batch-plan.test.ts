/**
 * The rules of effectively-once projection, without a store: skipping what the
 * store already holds, folding a document's events into one compare-and-set
 * write, and dead-lettering what a handler refuses. On the neutral test domain's
 * counter ranking (test/apps/counter-app.ts), whose increments and resets carry
 * ranking effects and which refuses a reset of a counter it does not hold.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { documentIds, planBatch } from '../../projections/batch-plan.js';
import { testEvent } from '../../projections/given-when-then.js';
import type { RedisEffect } from '../../stores/projection-sink.js';
import { counterRanking } from '../apps/counter-app.js';

const incremented = (id: string, version: number, by: number, value: number) => testEvent('Counter', id, version, 'Incremented', { by, value, label: 'clicks' });
const first = incremented('c-1', 1, 2, 2);
const second = incremented('c-1', 2, 3, 5);
const reset = testEvent('Counter', 'c-1', 3, 'Reset', { from: 5 });
const mug = incremented('mug', 1, 1, 1);
/** The increments of the by-value ranking among a write's effects, in order. */
const byValue = (effects: readonly RedisEffect[]) => effects.flatMap((effect) => (effect.type === 'sortedSetIncrement' ? [effect.by] : []));

describe('batch plan', () => {
  it('folds the events of one document into one write from the stored version to the last event', () => {
    const plan = planBatch(counterRanking, [first, second, reset], new Map());
    assert.equal(plan.writes.length, 1);
    const [write] = plan.writes;
    assert.equal(write?.expectedVersion, 0);
    assert.equal(write.version, 3);
    assert.deepStrictEqual(write.document, { counted: 0 });
    assert.deepStrictEqual(byValue(write.effects), [2, 3, -5]);
    assert.deepStrictEqual(write.events, [first, second, reset]);
  });

  it('skips events the stored document already has, so a redelivery does not count twice', () => {
    const stored = new Map([['default/c-1', { version: 2, document: { counted: 5 } }]]);
    const plan = planBatch(counterRanking, [first, second], stored);
    assert.deepStrictEqual(plan.writes, []);
    assert.equal(plan.skipped, 2, 'both increments were applied before');
  });

  it('applies only the part of a batch that is newer than the store, expecting the stored version', () => {
    const stored = new Map([['default/c-1', { version: 2, document: { counted: 5 } }]]);
    const [write] = planBatch(counterRanking, [second, reset], stored).writes;
    assert.equal(write?.expectedVersion, 2);
    assert.equal(write.version, 3);
    assert.deepStrictEqual(write.events, [reset]);
  });

  it('dead-letters an event its handler refuses and goes on with the next ones', () => {
    const orphan = testEvent('Counter', 'ghost', 4, 'Reset', { from: 1 });
    const plan = planBatch(counterRanking, [orphan, mug], new Map());
    assert.deepStrictEqual(plan.failed.map((failure) => failure.event), [orphan]);
    assert.match(plan.failed[0]?.error.message ?? '', /does not hold/);
    assert.deepStrictEqual(plan.writes.map((write) => write.id), ['default/mug']);
  });

  it('holds back the later events of an aggregate whose event was refused, so nothing is applied out of order', () => {
    const orphan = testEvent('Counter', 'ghost', 4, 'Reset', { from: 1 });
    const later = incremented('ghost', 5, 2, 2);
    const plan = planBatch(counterRanking, [orphan, mug, later], new Map());
    assert.deepStrictEqual(plan.failed.map((failure) => [failure.event, failure.error.name]), [
      [orphan, 'Error'],
      [later, 'HeldEventError'],
    ]);
    assert.deepStrictEqual(plan.writes.map((write) => write.id), ['default/mug']);
  });

  it('holds back every event of an aggregate that already waits in the dead letters', () => {
    const stored = new Map([['default/c-1', { version: 1, document: { counted: 2 } }]]);
    const plan = planBatch(counterRanking, [second, reset], stored, new Set(['default/c-1']));
    assert.deepStrictEqual(plan.writes, []);
    assert.deepStrictEqual(plan.failed.map((failure) => failure.event), [second, reset]);
    assert.match(plan.failed[0]?.error.message ?? '', /dlq retry|retried/);
  });

  it("keeps two tenants' documents of one aggregate id apart", () => {
    const acmeFirst = { ...first, tenant: 'acme' };
    const stored = new Map([['default/c-1', { version: 1, document: { counted: 2 } }]]);
    const plan = planBatch(counterRanking, [acmeFirst, second], stored, new Set(['globex/c-1']));
    assert.deepStrictEqual(plan.writes.map((write) => [write.id, write.tenant, write.expectedVersion, write.version]), [
      ['acme/c-1', 'acme', 0, 1],
      ['default/c-1', 'default', 1, 2],
    ]);
    assert.deepStrictEqual(plan.failed, [], "another tenant's held aggregate holds back nothing here");
  });

  it('loads only the documents of events the projection handles', () => {
    // Another aggregate type's event with the same event type is not the ranking's.
    const other = testEvent('OtherCounter', 'c-1', 1, 'Incremented', { by: 1, value: 1, label: '' });
    assert.deepStrictEqual(documentIds(counterRanking, [other, mug, mug]), ['default/mug']);
  });
});
