/**
 * What an Idempotency-Key is bound to: the same command again is the same, whatever
 * the order of its body's keys; another type, aggregate, sender or body is not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { idempotencyKeyReuse, requestOf, type CommandOutcome } from '../../write-side/command-record.js';

const principal = (subject: string) => ({ subject, tenant: 'acme', roles: [], scopes: [] });
const restock = { commandType: 'RestockProduct', data: { quantity: 5, note: { by: 'ann', at: 1 } }, principal: principal('ann') };
const outcome: CommandOutcome = {
  status: 'accepted',
  commandId: 'k-1',
  tenant: 'acme',
  aggregateId: 'mug',
  request: requestOf(restock),
  version: 2,
  events: ['ProductRestocked'],
  consistencyToken: 't',
};
const reuse = (aggregateId: string, command: Parameters<typeof requestOf>[0]) => idempotencyKeyReuse(outcome, { aggregateId, request: requestOf(command) });

describe('an Idempotency-Key', () => {
  it('is the same command again with the same type, aggregate, sender and body, in any key order', () => {
    assert.deepEqual(reuse('mug', restock), []);
    assert.deepEqual(reuse('mug', { ...restock, data: { note: { at: 1, by: 'ann' }, quantity: 5 } }), []);
  });

  it('names each thing that differs', () => {
    assert.deepEqual(reuse('tea', { ...restock, commandType: 'RegisterProduct' }), ['aggregateId', 'commandType']);
    assert.deepEqual(reuse('mug', { ...restock, principal: principal('bob') }), ['sender']);
    assert.deepEqual(reuse('mug', { ...restock, data: { quantity: 6, note: { by: 'ann', at: 1 } } }), ['body']);
    assert.deepEqual(reuse('mug', { ...restock, expectedVersion: 1 }), ['body'], 'the expected version is part of the body');
  });

  it('checks only the aggregate of an outcome that carries no binding (rebuilt from the log)', () => {
    const { request: _request, ...unbound } = outcome;
    assert.deepEqual(idempotencyKeyReuse(unbound, { aggregateId: 'mug', request: requestOf({ ...restock, commandType: 'Other' }) }), []);
    assert.deepEqual(idempotencyKeyReuse(unbound, { aggregateId: 'tea', request: requestOf(restock) }), ['aggregateId']);
  });
});
