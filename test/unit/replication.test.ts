/**
 * The replication of the topics Strata creates: STRATA_REPLICATION_FACTOR, else 3 or
 * the broker count when smaller; min.insync.replicas one less, at least 1; refused
 * when a topic to create needs more brokers than the cluster has, or a topic exists
 * with fewer replicas than asked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.js';
import { ConfigError } from '../../shared/errors.js';
import { planReplication } from '../../shared/topics.js';

const plan = (asked: number | undefined, brokers: number, existing: { topic: string; replicas: number }[] = []) =>
  planReplication({ asked, brokers, missing: ['strata.events'], existing });

/** The refusal's message, asserted to be a ConfigError naming the setting and `topic`. */
function refusal(work: () => unknown, topic: string): string {
  let message = '';
  assert.throws(work, (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.variable, 'STRATA_REPLICATION_FACTOR');
    message = error.message;
    return true;
  });
  assert.match(message, new RegExp(`topic ${topic.replaceAll('.', '\\.')} `));
  return message;
}

describe('replication of the topics Strata creates', () => {
  it('is 3, or the broker count when smaller, when the setting is unset', () => {
    assert.deepEqual(plan(undefined, 1), { factor: 1, minInSync: 1 });
    assert.deepEqual(plan(undefined, 2), { factor: 2, minInSync: 1 });
    assert.deepEqual(plan(undefined, 3), { factor: 3, minInSync: 2 });
    assert.deepEqual(plan(undefined, 7), { factor: 3, minInSync: 2 });
  });

  it('is the asked factor with min.insync.replicas one less, at least 1', () => {
    assert.deepEqual(plan(1, 5), { factor: 1, minInSync: 1 });
    assert.deepEqual(plan(2, 5), { factor: 2, minInSync: 1 });
    assert.deepEqual(plan(3, 3), { factor: 3, minInSync: 2 });
    assert.deepEqual(plan(5, 6), { factor: 5, minInSync: 4 });
  });

  it('refuses a factor larger than the cluster when a topic is to be created', () => {
    const message = refusal(() => plan(2, 1), 'strata.events');
    assert.match(message, /STRATA_REPLICATION_FACTOR="2"/);
    assert.match(message, /1 broker/);
  });

  it('lets a cluster short of brokers (one down) start when every topic exists with enough replicas', () => {
    const existing = [{ topic: 'strata.events', replicas: 3 }];
    assert.deepEqual(planReplication({ asked: 3, brokers: 2, missing: [], existing }), { factor: 3, minInSync: 2 });
  });

  it('refuses an existing topic with fewer replicas than asked, or than the default', () => {
    const existing = [{ topic: 'strata.commands', replicas: 3 }, { topic: 'strata.snapshots', replicas: 1 }];
    assert.match(refusal(() => plan(2, 3, existing), 'strata.snapshots'), /STRATA_REPLICATION_FACTOR=1 to accept/);
    assert.match(refusal(() => plan(undefined, 3, existing), 'strata.snapshots'), /\(unset: 3\)/);
    assert.deepEqual(plan(1, 3, existing), { factor: 1, minInSync: 1 }, 'more replicas than asked are fine');
  });

  it('reads STRATA_REPLICATION_FACTOR as a positive whole number, unset when empty', () => {
    assert.equal(loadConfig({ STRATA_REPLICATION_FACTOR: '2' }).topics.replicationFactor, 2);
    assert.equal(loadConfig({}).topics.replicationFactor, undefined);
    assert.equal(loadConfig({ STRATA_REPLICATION_FACTOR: '' }).topics.replicationFactor, undefined);
    assert.throws(() => loadConfig({ STRATA_REPLICATION_FACTOR: '0' }), ConfigError);
    assert.throws(() => loadConfig({ STRATA_REPLICATION_FACTOR: 'three' }), ConfigError);
  });
});
