/**
 * The read side's pure parts: signed cursors, the Elasticsearch requests built
 * from search specs, the shared checkpoint watch and the breakers' error
 * filter. (Against the real stores: test/integration/query-service.test.ts.)
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { NotFoundError, UnavailableError, ValidationError } from '../../shared/errors.js';
import { createBackendBreaker } from '../../shared/backend-breaker.js';
import { checkpointWatch } from '../../read-side/checkpoint-watch.js';
import { decodeCursor, encodeCursor, queryBinding } from '../../read-side/search-cursor.js';
import { searchRequest } from '../../read-side/search-requests.js';
import { logger } from '../support/test-context.js';

describe('search cursors', () => {
  const secret = 'a-secret-of-some-length';
  const binding = queryBinding('orders', 'acme', { status: 'placed', size: 5, cursor: 'ignored' });

  it('give back the sort values they were made from', () => {
    const cursor = encodeCursor(secret, binding, [1767225600000, 'order-1']);
    assert.deepEqual(decodeCursor(secret, binding, cursor), [1767225600000, 'order-1']);
    assert.equal(binding, queryBinding('orders', 'acme', { size: 50, status: 'placed' }), 'size and cursor are not part of the query');
  });

  it('are refused when altered, signed with another key, brought to other filters or by another tenant', () => {
    const cursor = encodeCursor(secret, binding, [1, 'order-1']);
    const [payload = '', signature = ''] = cursor.split('.');
    const other = Buffer.from(JSON.stringify([2, 'order-2'])).toString('base64url');
    for (const [bad, usedWith] of [
      [`${other}.${signature}`, binding],
      [cursor, queryBinding('orders', 'acme', { status: 'shipped' })],
      [cursor, queryBinding('products', 'acme', { status: 'placed' })],
      [cursor, queryBinding('orders', 'globex', { status: 'placed' })],
      [encodeCursor('another-secret-entirely', binding, [1, 'order-1']), binding],
      [`${payload}.`, binding],
      [payload, binding],
    ] as const) {
      assert.throws(() => decodeCursor(secret, usedWith, bad), (error: unknown) => error instanceof ValidationError && error.field === 'cursor');
    }
  });
});

describe('search requests', () => {
  it('put free text in a match query, never query-string syntax', () => {
    const q = '"status:placed" OR * {"script":1}';
    const request = searchRequest({ text: { query: q, boost: { name: 3 } }, sort: [{ id: 'asc' }], size: 10 }, 'acme');
    assert.doesNotMatch(JSON.stringify(request), /query_string|simple_query_string|script"/);
    assert.deepEqual(request.query, {
      bool: { filter: [{ term: { strata_tenant: 'acme' } }], must: [{ match: { text: { query: q, operator: 'and' } } }], should: [{ match: { name: { query: q, boost: 3 } } }] },
    });
  });

  it('filter a facet after its aggregation, page with search_after, and ask for one hit more than the page', () => {
    const request = searchRequest(
      {
        filters: [{ term: { customerId: 'c-1' } }],
        postFilter: { term: { status: 'placed' } },
        facets: { statusCounts: { field: 'status', size: 4 } },
        sort: [{ placedAt: 'desc' }, { orderId: 'asc' }],
        size: 20,
      },
      'acme',
      [5, 'order-9'],
    );
    assert.deepEqual(request.post_filter, { term: { status: 'placed' } });
    assert.deepEqual(request.aggs, { statusCounts: { terms: { field: 'status', size: 4 } } });
    assert.deepEqual(request.query, { bool: { filter: [{ term: { strata_tenant: 'acme' } }, { term: { customerId: 'c-1' } }] } }, "only the tenant's documents, whatever the query filters");
    assert.deepEqual(request.search_after, [5, 'order-9']);
    assert.equal(request.size, 21);
  });
});

describe('checkpoint watch', () => {
  it('serves any number of waiting reads with one checkpoint read per interval', async () => {
    let reads = 0;
    let offset = 0n;
    const watch = checkpointWatch({
      projection: 'test.v1',
      partitions: 2,
      pollMs: 20,
      read: () => {
        reads++;
        return Promise.resolve(new Map([[0, offset], [1, 100n]]));
      },
    });
    const waits = Array.from({ length: 200 }, (_, i) => watch.waitFor({ 0: String(i % 10), 1: '5' }, 5_000));
    await sleep(110);
    // At most one read per interval whatever the number of waiting reads (a loaded machine runs fewer).
    assert.ok(reads >= 1 && reads <= 8, `${String(reads)} reads in 110 ms for 200 waiting reads`);
    offset = 10n; // the projection passes offset 9
    await Promise.all(waits);
    const before = reads;
    await watch.waitFor({ 0: '9' }, 5_000);
    assert.equal(reads, before, 'checkpoints already seen answer without a store call');
    watch.stop();
  });

  it('gives up after its bound with a consistency problem, and refuses partitions the topic does not have', async () => {
    const watch = checkpointWatch({ projection: 'test.v1', partitions: 2, pollMs: 5, read: () => Promise.resolve(new Map()) });
    await assert.rejects(watch.waitFor({ 0: '0' }, 50), { problemType: 'consistency-timeout', status: 503 });
    assert.throws(() => watch.waitFor({ 2: '0' }, 50), ValidationError);
    watch.stop();
  });
});

describe('backend breaker', () => {
  const breakerFor = () => createBackendBreaker({ backend: 'store', timeoutMs: 200, resetMs: 3_000, logger });

  it('does not count a client’s mistake as a failure of the backend', async () => {
    const breaker = breakerFor();
    for (let i = 0; i < 20; i++) await assert.rejects(breaker.run(() => Promise.reject(new NotFoundError('no such thing'))), NotFoundError);
    const badRequest = Object.assign(new Error('bad request'), { meta: { statusCode: 400 } });
    for (let i = 0; i < 20; i++) await assert.rejects(breaker.run(() => Promise.reject(badRequest)));
    assert.equal(breaker.state(), 'closed');
    breaker.shutdown();
  });

  it('opens on backend failures and then refuses at once with a Retry-After', async () => {
    const breaker = breakerFor();
    for (let i = 0; i < 6; i++) {
      await assert.rejects(breaker.run(() => Promise.reject(new Error('ECONNREFUSED'))), UnavailableError);
    }
    assert.equal(breaker.state(), 'open');
    let called = false;
    const started = performance.now();
    await assert.rejects(
      breaker.run(() => {
        called = true;
        return Promise.resolve();
      }),
      (error: unknown) => error instanceof UnavailableError && error.retryAfterSeconds === 3,
    );
    assert.ok(performance.now() - started < 20);
    assert.equal(called, false, 'an open breaker does not call the backend');
    breaker.shutdown();
  });

  it('counts a call slower than the timeout as failed', async () => {
    const breaker = breakerFor();
    await assert.rejects(breaker.run(() => sleep(1_000)), /did not answer within 200 ms/);
    breaker.shutdown();
  });
});
