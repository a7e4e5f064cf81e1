import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyStatus, decodeStatus, encodeStatus, isServing, unservedPartitions, type PartitionStatus } from '../../write-side/command-processor/partition-status.js';
import { createPartitionReadiness } from '../../write-side/gateway/partition-readiness.js';

const now = Date.parse('2026-12-01T12:00:00Z');
const status = (partition: number, phase: PartitionStatus['phase'], owner = 'a:1', ageMs = 0): PartitionStatus => {
  const at = new Date(now - ageMs).toISOString();
  return { partition, owner, phase, since: at, at };
};

describe('partition status', () => {
  it('a partition is served by a fresh serving record only', () => {
    assert.equal(isServing(status(0, 'serving', 'a:1', 1000), now, 5000), true);
    assert.equal(isServing(status(0, 'serving', 'a:1', 6000), now, 5000), false, 'its owner went silent');
    assert.equal(isServing(status(0, 'rebuilding'), now, 5000), false);
    assert.equal(isServing(undefined, now, 5000), false);
  });

  it('lists the partitions without a live owner that serves them', () => {
    const statuses = new Map([[0, status(0, 'serving')], [1, status(1, 'failed')], [3, status(3, 'serving', 'a:1', 60_000)]]);
    assert.deepEqual(unservedPartitions(statuses, 4, now, 5000), [1, 2, 3]);
  });

  it("a late 'released' from a former owner does not hide the new owner", () => {
    const statuses = new Map<number, PartitionStatus>();
    applyStatus(statuses, status(0, 'serving', 'new:2'));
    applyStatus(statuses, status(0, 'released', 'old:1'));
    assert.equal(statuses.get(0)?.owner, 'new:2');
    applyStatus(statuses, status(0, 'released', 'new:2'));
    assert.equal(statuses.get(0)?.phase, 'released');
  });

  it("an owner's record that arrives after a later one of its own changes nothing", () => {
    const statuses = new Map<number, PartitionStatus>();
    applyStatus(statuses, status(0, 'released', 'a:1', 0));
    applyStatus(statuses, status(0, 'serving', 'a:1', 2000));
    assert.equal(statuses.get(0)?.phase, 'released');
  });

  it('round-trips through its record and ignores what is not one', () => {
    const record = status(2, 'rebuilding');
    assert.deepEqual(decodeStatus(Buffer.from(encodeStatus(record).value)), record);
    assert.equal(decodeStatus(Buffer.from('not json')), undefined);
    assert.equal(decodeStatus(Buffer.from('{"partition":"x"}')), undefined);
    assert.equal(decodeStatus(null), undefined);
  });
});

describe('partition readiness (gateway)', () => {
  const fresh = (partition: number, phase: PartitionStatus['phase']): PartitionStatus => {
    const at = new Date().toISOString();
    return { partition, owner: 'a:1', phase, since: at, at };
  };

  it('a command for an unserved partition waits until its owner serves', async () => {
    const readiness = createPartitionReadiness(2, 5000);
    readiness.apply([fresh(0, 'rebuilding')], true);
    const waiting = readiness.whenServed(0, 2000);
    readiness.apply([fresh(0, 'serving')], true);
    assert.equal(await waiting, true);
    assert.deepEqual(readiness.unserved(), [1]);
  });

  it('counts nothing served until the status history was read to its end (a later release overrides an earlier serving)', async () => {
    const readiness = createPartitionReadiness(1, 5000);
    const waiting = readiness.whenServed(0, 100);
    readiness.apply([fresh(0, 'serving')], false);
    assert.deepEqual(readiness.unserved(), [0]);
    readiness.apply([fresh(0, 'released')], true);
    assert.equal(await waiting, false);
    assert.deepEqual(readiness.unserved(), [0]);
  });

  it('gives up after the wait when no owner serves', async () => {
    const readiness = createPartitionReadiness(1, 5000);
    assert.equal(await readiness.whenServed(0, 20), false);
  });
});
