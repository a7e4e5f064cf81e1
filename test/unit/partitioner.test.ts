/**
 * An aggregate's partition never changes: Strata's partitioner gives every key the
 * partition Kafka's Java producer (and kafkajs, which wrote the logs so far) gives it.
 */
import { defaultTenant } from '../../shared/auth/principal.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import { partitionOfKey } from '../../shared/kafka/partitioner.js';
import { partitionOfAggregate } from '../../shared/topics.js';

/** Partitions of keys under Kafka's Java client 3.9.1 (Utils.toPositive(Utils.murmur2(utf8)) % 12), printed by it. */
const javaPartitions12: [string, number][] = [
  ['', 9],
  ['a', 4],
  ['ab', 2],
  ['abc', 3],
  ['abcd', 8],
  ['c-1', 11],
  ['counter-1', 10],
  ['counter-2', 5],
  ['product-000042', 10],
  ['order-7919', 7],
  ['é-ünïcödé-键', 9],
  ['a-much-longer-aggregate-id-of-several-words', 6],
];

describe("Strata's partitioner", () => {
  it("gives each key the partition of kafkajs's default (Java-compatible) partitioner, for any count", () => {
    const reference = Partitioners.DefaultPartitioner();
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'c-1', 'counter-1', 'product-000042', 'é-ünïcödé-键', 'a-much-longer-aggregate-id-of-several-words'];
    for (let index = 0; index < 500; index++) keys.push(`order-${String(index * 7919)}`);
    for (const partitions of [1, 2, 3, 4, 6, 7, 12, 16, 100]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
      for (const key of keys) {
        assert.equal(partitionOfKey(key, partitions), reference({ topic: 't', partitionMetadata, message: { key, value: null } }), `${key} of ${String(partitions)}`);
      }
    }
  });

  it("gives keys the partitions Kafka's Java client gives them", () => {
    for (const [key, partition] of javaPartitions12) assert.equal(partitionOfAggregate(defaultTenant, key, 12), partition, key);
  });
});
