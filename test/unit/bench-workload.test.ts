/**
 * The bench finds the app it measures as `strata start` does, and the app's workload
 * beside it (package.json's "strata": { "app", "benchWorkload" }): here the shop's, whose
 * write load is what the bench always sent (products bench-0… registered, then
 * RestockProduct by one, round-robin), and whose projections are the app's own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { projectionNamed } from '../../bench/bench-processes.js';
import { loadAppWorkload, type Workload } from '../../bench/workload.js';
import { loadRequest } from '../../bench/write-load.js';
import shopWorkload from '../../examples/shop/bench/workload.js';
import { packageRoot } from '../../shared/package-files.js';

// The example cannot import the bench's type (it imports Strata's entry points only): checked here, at compile time.
const typed: Workload = shopWorkload;

describe('bench workload', async () => {
  const { app, workload } = await loadAppWorkload(packageRoot);

  it('is the app strata start runs, with its workload', () => {
    assert.equal(app.name, 'shop');
    assert.equal(workload, typed);
    assert.deepEqual(workload.roles, ['customer', 'clerk', 'admin']);
  });

  it('registers the products, then restocks them by one in turn', () => {
    assert.deepEqual(workload.write.setup(2), [
      { type: 'RegisterProduct', aggregateId: 'bench-0', data: { name: 'bench-0', description: '', priceCents: 100, currency: 'EUR', tags: [] } },
      { type: 'RegisterProduct', aggregateId: 'bench-1', data: { name: 'bench-1', description: '', priceCents: 100, currency: 'EUR', tags: [] } },
    ]);
    const request = loadRequest(workload, 3);
    assert.deepEqual([0, 1, 4].map(request), [0, 1, 1].map((sku) => ({ path: '/commands/RestockProduct', body: `{"aggregateId":"bench-${String(sku)}","data":{"quantity":1}}` })));
  });

  it('the peer runs the aggregate of the load, which handles the setup commands too', () => {
    const aggregate = app.domain.aggregateFor(workload.write.commandType);
    assert.equal(aggregate?.type, 'Product');
    for (const { type } of workload.write.setup(1)) assert.equal(app.domain.aggregateFor(type), aggregate);
  });

  it('names projections of the app, in the stores the lag scenario polls', () => {
    assert.equal(projectionNamed(app, workload.lag.redis).store, 'redis');
    assert.equal(projectionNamed(app, workload.lag.elasticsearch).store, 'elasticsearch');
    for (const name of [...workload.prefill.catchUpRuns.flat(), ...workload.prefill.replayed]) projectionNamed(app, name);
    assert.deepEqual(workload.prefill.catchUpRuns.at(-1), ['order-search', 'product-catalogue']);
    assert.deepEqual(workload.prefill.replayed, ['order-details', 'order-search']);
  });

  it('writes old events that read as today\'s types, and leaves the others as they are', () => {
    // The lag scenario's log: fewer products, so orders come sooner than in the prefill's.
    const events = workload.lag.events();
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const event = events.next().value;
      const old = workload.prefill.asFirstWritten(event);
      if (old === event) continue;
      seen.add(event.type);
      assert.equal(old.schemaVersion, 1);
      const upcast = app.domain.events.upcast(old);
      assert.equal(upcast.type, event.type);
      assert.equal(upcast.schemaVersion, event.schemaVersion);
    }
    assert.ok(seen.has('ProductRegistered') && seen.has('OrderPlaced'), [...seen].join(', '));
  });
});
