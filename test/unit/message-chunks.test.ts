import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkMessages } from '../../shared/message-chunks.js';

describe('message chunks', () => {
  const message = (bytes: number, key = 'k') => ({ key, value: 'x'.repeat(bytes) });

  it('keeps the order and every message, each chunk under the budget', () => {
    const messages = Array.from({ length: 100 }, (_, index) => message(1000, `k${index}`));
    const chunks = chunkMessages(messages, 10_000);
    assert.deepEqual(chunks.flat(), messages);
    assert.ok(chunks.length > 1);
    for (const chunk of chunks) assert.ok(chunk.reduce((sum, { value }) => sum + String(value).length, 0) <= 10_000);
  });

  it('sends a message larger than the budget alone', () => {
    const chunks = chunkMessages([message(10), message(50_000), message(10)], 10_000);
    assert.deepEqual(chunks.map((chunk) => chunk.length), [1, 1, 1]);
  });

  it('makes no chunk of nothing', () => {
    assert.deepEqual(chunkMessages([]), []);
  });
});
