/**
 * The saga store against the real Redis: compare-and-set saves, deadlines written
 * with the state and found when due, and everything still there for a new process.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { createRedis } from '../../shared/redis-client.js';
import { createSagaStore } from '../../write-side/saga/saga-store.js';
import { uniqueName } from '../support/test-context.js';

const config = loadConfig({ ...process.env, STRATA_TOPIC_PREFIX: uniqueName('test-saga-store') });
type State = { phase: string };

describe('saga store', () => {
  const redis = createRedis(config);

  after(async () => {
    const keys = await redis.keys(`${config.topics.prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('saves an instance only from the version it was read at, with its deadlines, and keeps it across processes', async () => {
    const store = createSagaStore<State>(config, 'fulfilment');
    assert.equal(await store.load('o-1'), undefined);
    const outbox = [{ commandId: 'saga-1', command: { commandType: 'ReserveStock', aggregateId: 'mug', data: { orderId: 'o-1', quantity: 1 } } }];
    const settle = { name: 'settle', at: '2026-01-01T00:00:30.000Z' };
    assert.equal(await store.save('o-1', 0, { state: { phase: 'reserving' }, handled: ['event:e1'], outbox }, { set: [settle], clear: [] }), true);
    // A second writer that read the same version loses, and changes nothing.
    assert.equal(await store.save('o-1', 0, { state: { phase: 'other' }, handled: [], outbox: [] }, { set: [{ name: 'late', at: settle.at }], clear: [] }), false);
    await store.close();

    // A new process (store) sees what the first saved, and the deadline once it is due.
    const restarted = createSagaStore<State>(config, 'fulfilment');
    assert.deepEqual(await restarted.load('o-1'), { version: 1, state: { phase: 'reserving' }, handled: ['event:e1'], outbox });
    assert.deepEqual(await restarted.dueDeadlines(new Date('2026-01-01T00:00:29.999Z'), 10), []);
    assert.deepEqual(await restarted.dueDeadlines(new Date('2026-01-01T00:00:30.000Z'), 10), [{ instance: 'o-1', deadline: settle }]);

    // Another instance's deadline; then o-1 settles and clears its own.
    assert.equal(await restarted.save('o-2', 0, { state: { phase: 'reserving' }, handled: [], outbox: [] }, { set: [{ name: 'settle', at: '2026-01-01T00:00:10.000Z' }], clear: [] }), true);
    assert.equal(await restarted.save('o-1', 1, { state: { phase: 'confirming' }, handled: ['event:e1', 'event:e2'], outbox: [] }, { set: [], clear: ['settle'] }), true);
    assert.deepEqual(await restarted.dueDeadlines(new Date('2026-01-02T00:00:00.000Z'), 10), [{ instance: 'o-2', deadline: { name: 'settle', at: '2026-01-01T00:00:10.000Z' } }]);
    assert.equal((await restarted.load('o-1'))?.version, 2);
    // o-1's outbox was emptied, o-2's never held anything: no outbox is left waiting.
    assert.deepEqual(await restarted.staleOutboxes(new Date(Date.now() + 60_000), 10), []);
    assert.equal(await restarted.save('o-2', 1, { state: { phase: 'cancelling' }, handled: [], outbox }, { set: [], clear: [] }), true);
    assert.deepEqual(await restarted.staleOutboxes(new Date(Date.now() - 60_000), 10), [], 'not stale yet');
    assert.deepEqual(await restarted.staleOutboxes(new Date(Date.now() + 60_000), 10), ['o-2']);
    await restarted.close();
  });

  it('lets exactly one of many concurrent writers of an instance win each version', async () => {
    const stores = Array.from({ length: 5 }, () => createSagaStore<State>(config, 'race'));
    try {
      const results = await Promise.all(stores.map((store, index) => store.save('o-9', 0, { state: { phase: `writer-${String(index)}` }, handled: [], outbox: [] }, { set: [], clear: [] })));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await stores[0]?.load('o-9'))?.state.phase, `writer-${String(winner)}`);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
