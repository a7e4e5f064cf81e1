/**
 * The fault test's checker must be able to fail: each broken log below is caught.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkEventLog } from '../support/event-log-checker.js';

const event = (aggregateId: string, version: number, commandId: string) => ({ aggregateType: 'Product', aggregateId, version, commandId });
const good = [event('a', 1, 'c1'), event('b', 1, 'c2'), event('a', 2, 'c3')];
const acks = new Map([['c1', { aggregateId: 'a', version: 1 }], ['c3', { aggregateId: 'a', version: 2 }]]);

describe('event log checker', () => {
  it('accepts a correct log', () => {
    checkEventLog(good, acks);
  });
  it('catches a gap', () => {
    assert.throws(() => { checkEventLog([event('a', 1, 'c1'), event('a', 3, 'c3')], new Map()); }, /versions 1\.\.n/);
  });
  it('catches a duplicate version', () => {
    assert.throws(() => { checkEventLog([event('a', 1, 'c1'), event('a', 1, 'c2')], new Map()); }, /versions 1\.\.n/);
  });
  it('catches a command appended twice', () => {
    assert.throws(() => { checkEventLog([event('a', 1, 'c1'), event('a', 2, 'c1')], new Map(), 1); }, /appended once/);
    assert.throws(() => { checkEventLog([event('a', 1, 'c1'), event('a', 2, 'c2'), event('a', 3, 'c1')], new Map()); }, /appended once/);
    assert.throws(() => { checkEventLog([event('a', 1, 'c1'), event('b', 1, 'c1')], new Map()); }, /one aggregate/);
  });
  it('catches a lost acknowledgement', () => {
    assert.throws(() => { checkEventLog(good, new Map([['c9', { aggregateId: 'a', version: 3 }]])); }, /c9 is in the log/);
  });
  it('catches an acknowledgement with another version', () => {
    assert.throws(() => { checkEventLog(good, new Map([['c3', { aggregateId: 'a', version: 1 }]])); }, /acknowledged version/);
  });
});
