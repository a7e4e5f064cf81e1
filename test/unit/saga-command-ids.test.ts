/**
 * Saga command ids are derived from the input that caused them, so a redelivered
 * input or a restart sends the very same commands (docs/sagas.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineOf, on, testEvent } from '../../app/testing.js';
import { sagaCommandId, triggerOf } from '../../write-side/saga/process-manager.js';

describe('saga command ids', () => {
  const placed = testEvent('Order', 'o-1', 1, 'OrderPlaced', {});

  it('are derived from the triggering input: the same input, the same ids', () => {
    const first = sagaCommandId('fulfilment', triggerOf('o-1', on(placed)), 0);
    assert.equal(first, sagaCommandId('fulfilment', triggerOf('o-1', on(placed)), 0));
    assert.notEqual(first, sagaCommandId('fulfilment', triggerOf('o-1', on(placed)), 1));
    assert.notEqual(first, sagaCommandId('other', triggerOf('o-1', on(placed)), 0));
    assert.notEqual(first, sagaCommandId('fulfilment', triggerOf('o-1', deadlineOf('settle', '2026-01-01T00:00:00.000Z')), 0));
    assert.match(first, /^[A-Za-z0-9._:-]{1,128}$/, 'a valid command id');
  });
});
