import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkRecords } from '../../shared/kafka/record-chunks.js';

describe('record chunks', () => {
  const message = (bytes: number, key = 'k') => ({ key, value: 'x'.repeat(bytes) });

  it('keeps the order and every record, each chunk under the budget', () => {
    const messages = Array.from({ length: 100 }, (_, index) => message(1000, `k${index}`));
    const chunks = chunkRecords(messages, 10_000);
    assert.deepEqual(chunks.flat(), messages);
    assert.ok(chunks.length > 1);
    for (const chunk of chunks) assert.ok(chunk.reduce((sum, { value }) => sum + value.length, 0) <= 10_000);
  });

  it('sends a record larger than the budget alone', () => {
    const chunks = chunkRecords([message(10), message(50_000), message(10)], 10_000);
    assert.deepEqual(chunks.map((chunk) => chunk.length), [1, 1, 1]);
  });

  it('makes no chunk of nothing', () => {
    assert.deepEqual(chunkRecords([]), []);
  });
});
