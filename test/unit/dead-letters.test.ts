/**
 * The dead letters' history as the topic tells it: which letters are open and which
 * aggregates they hold, through failures, retries that fail again, and drops.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutgoingRecord } from '../../shared/kafka/log-client.js';
import { createDeadLetterBook, decodeDeadLetterRecord, encodeDeadLetter, encodeResolution, type DeadLetter } from '../../projections/dead-letters.js';
import { testEvent } from '../../projections/given-when-then.js';

const letter = (aggregateId: string, version: number, projectionVersion = 1): DeadLetter => ({
  id: `order-details.v${String(projectionVersion)}:strata.events:0:${aggregateId}-${String(version)}`,
  projection: 'order-details',
  projectionVersion,
  error: { name: 'Error', message: 'boom' },
  source: { topic: 'strata.events', partition: 0, offset: String(version) },
  traceId: null,
  event: testEvent('Order', aggregateId, version, 'OrderConfirmed', {}),
  rawValue: null,
  failedAt: '2026-11-25T00:00:00.000Z',
});
/** A produced message as a consumer receives it. */
const asRecord = (message: OutgoingRecord) => ({ value: Buffer.from(String(message.value)) });
const resolution = (id: string, kind: 'retried' | 'dropped') => ({ id, resolution: kind, resolvedAt: '2026-11-25T00:01:00.000Z' }) as const;

describe('dead-letter book', () => {
  it('holds an aggregate while any of its letters is open, per projection version', () => {
    const book = createDeadLetterBook();
    const first = letter('o-1', 2);
    const second = letter('o-1', 3);
    book.add(first);
    book.add(second);
    book.add(letter('o-2', 5, 2));
    assert.deepStrictEqual([...book.held('order-details.v1')], ['default/o-1']);
    assert.deepStrictEqual([...book.held('order-details.v2')], ['default/o-2']);
    book.add(resolution(first.id, 'retried'));
    assert.deepStrictEqual([...book.held('order-details.v1')], ['default/o-1'], 'the held later event still holds it');
    book.add(resolution(second.id, 'dropped'));
    assert.deepStrictEqual([...book.held('order-details.v1')], []);
    assert.equal(book.get(second.id)?.resolution?.resolution, 'dropped');
  });

  it('reopens a letter written again (a retry that failed), counting its failures', () => {
    const book = createDeadLetterBook();
    const first = letter('o-1', 2);
    book.add(first);
    book.add(first); // the same failure redelivered
    book.add({ ...first, error: { name: 'RetryFailed', message: 'still' } });
    assert.equal(book.get(first.id)?.failures, 3);
    assert.deepStrictEqual([...book.held('order-details.v1')], ['default/o-1']);
    book.add(resolution(first.id, 'retried'));
    assert.deepStrictEqual([...book.held('order-details.v1')], [], 'one resolution releases it, however often it failed');
  });

  it('round-trips letters and resolutions through records, and refuses anything else', () => {
    const first = letter('o-1', 2);
    assert.deepStrictEqual(decodeDeadLetterRecord(asRecord(encodeDeadLetter(first))), first);
    const resolved = resolution(first.id, 'retried');
    assert.deepStrictEqual(decodeDeadLetterRecord(asRecord(encodeResolution(resolved))), resolved);
    assert.throws(() => decodeDeadLetterRecord({ value: Buffer.from('{"id":"x"}') }), /not a dead letter/);
  });
});
