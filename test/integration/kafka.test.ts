/**
 * The log client (shared/kafka/log-client.ts) against the stack's real Kafka: what
 * any client behind it must do for the platform's guarantees to hold. Keyed records
 * land on the Java-compatible partition, in order; read_committed readers never see
 * aborted records, also after several aborted transactions in a row, and a read begun
 * right after a commit sees all of it; a transactional producer is fenced by a newer one
 * with its id, and one restarted with the same id works; appended records' offsets are
 * the offsets they are read back at.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProducerFencedError } from '../../shared/errors.js';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import type { LogRecord } from '../../shared/kafka/log-client.js';
import { partitionOfKey } from '../../shared/kafka/partitioner.js';
import { config, logger, uniqueName } from '../support/test-context.js';

interface Seen {
  partition: number;
  offset: bigint;
  key: string;
  value: string;
}

const seen = (partition: number, record: LogRecord): Seen => ({
  partition,
  offset: record.offset,
  key: record.key?.toString() ?? '',
  value: record.value?.toString() ?? '',
});

describe('the log client, against Kafka', () => {
  const log = createLogClient(config, { clientId: 'strata-test', logger });
  const topic = uniqueName('test-keyed');
  const txTopic = uniqueName('test-tx');

  /** Every record of the topic's partitions, committed only unless `readUncommitted`. */
  const readAll = async (name: string, partitions: number, readUncommitted = false) => {
    const found: Seen[] = [];
    await log.readToEnd({
      topic: name,
      partitions: Array.from({ length: partitions }, (_, partition) => ({ partition, from: 0n })),
      readUncommitted,
      onRecords: (partition, records) => { found.push(...records.map((record) => seen(partition, record))); },
    });
    return found;
  };

  /** What a group member (read_committed) is given, until `expected` records arrived. */
  const consumeAll = async (name: string, expected: number) => {
    const found: Seen[] = [];
    let done: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => { done = resolve; });
    const consumer = log.groupConsumer({
      groupId: uniqueName('test-group'),
      topics: [{ topic: name, fromBeginning: true }],
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
      maxWaitMs: 100,
      onBatch: async (batch, context) => {
        found.push(...batch.records.map((record) => seen(batch.partition, record)));
        context.advance(batch.next);
        if (found.length >= expected) done();
        return Promise.resolve();
      },
    });
    await consumer.start();
    const timer = setTimeout(done, 20_000);
    try {
      await arrived;
    } finally {
      clearTimeout(timer);
      await consumer.stop();
    }
    return found;
  };

  before(async () => {
    await log.withAdmin((admin) =>
      admin.createMissingTopics([
        { topic, partitions: 3 },
        { topic: txTopic, partitions: 2 },
      ]),
    );
  });

  after(async () => {
    await log.withAdmin((admin) => admin.deleteTopics([topic, txTopic]));
  });

  it('creates a topic with several partitions', async () => {
    assert.equal((await log.withAdmin((admin) => admin.partitionCounts([topic]))).get(topic), 3);
  });

  it("delivers keyed records in order, each key to the partition of Kafka's Java partitioner", async () => {
    const producer = await log.producer();
    const keys = ['order-1', 'order-2', 'order-3', 'order-4', 'order-5', 'order-6'];
    const records = keys.flatMap((key) => [1, 2, 3].map((n) => ({ key, value: `${key}#${String(n)}` })));
    await producer.send(topic, records);
    await producer.stop();

    const found = await readAll(topic, 3);
    assert.equal(found.length, records.length);
    for (const key of keys) {
      const ofKey = found.filter((record) => record.key === key);
      assert.deepEqual([...new Set(ofKey.map((record) => record.partition))], [partitionOfKey(key, 3)], `${key} went to its partition`);
      const inOffsetOrder = [...ofKey].sort((a, b) => Number(a.offset - b.offset));
      assert.deepEqual(inOffsetOrder.map((record) => record.value), [`${key}#1`, `${key}#2`, `${key}#3`]);
    }
    assert.ok(new Set(found.map((record) => record.partition)).size > 1, 'keys spread over partitions');
  });

  it('never shows a read_committed reader an aborted record, also after several aborted transactions in a row', async () => {
    const producer = await log.transactionalProducer({ transactionalId: uniqueName('test-tx-producer'), transactionTimeoutMs: 10_000 });
    await producer.fence();
    const write = async (values: string[], outcome: 'commit' | 'abort') => {
      const transaction = await producer.begin();
      await transaction.send([{ topic: txTopic, records: values.map((value, index) => ({ key: value, value, partition: index % 2 })) }]);
      await (outcome === 'commit' ? transaction.commit() : transaction.abort());
    };
    await write(['committed-1', 'committed-2'], 'commit');
    // Several aborted transactions of one producer, read in one fetch.
    for (const round of [1, 2, 3]) await write([`aborted-${String(round)}a`, `aborted-${String(round)}b`], 'abort');
    await write(['committed-3', 'committed-4'], 'commit');
    await producer.stop();

    const committed = ['committed-1', 'committed-2', 'committed-3', 'committed-4'];
    assert.deepEqual((await readAll(txTopic, 2)).map((record) => record.value).sort(), committed);
    assert.deepEqual((await consumeAll(txTopic, committed.length)).map((record) => record.value).sort(), committed);
    // The aborted records really were written: a read_uncommitted reader sees them.
    const uncommitted = (await readAll(txTopic, 2, true)).map((record) => record.value);
    assert.equal(uncommitted.length, committed.length + 6);
    assert.ok(uncommitted.includes('aborted-2a'));
  });

  it('shows a read begun the moment a commit returned all of its transaction, also before the partitions have its markers', async () => {
    // The commit returns once the coordinator logged it; the markers reach the partitions
    // moments later. Segments of 100 bytes make each marker start a segment, which holds
    // it back by milliseconds: a read that ended at the last stable offset it found
    // missed the transaction in about nine trials of ten.
    const rolling = uniqueName('test-tx-rolling');
    await log.withAdmin((admin) => admin.createMissingTopics([{ topic: rolling, partitions: 2, config: { 'segment.bytes': '100' } }]));
    const producer = await log.transactionalProducer({ transactionalId: uniqueName('test-tx-rolling'), transactionTimeoutMs: 10_000 });
    try {
      await producer.fence();
      for (let trial = 1; trial <= 10; trial++) {
        const values = [0, 1].map((partition) => `trial-${String(trial)}-${String(partition)}`);
        const transaction = await producer.begin();
        await transaction.send([{ topic: rolling, records: values.map((value, partition) => ({ key: null, value, partition })) }]);
        await transaction.commit();
        const found = new Set((await readAll(rolling, 2)).map((record) => record.value));
        assert.deepEqual(values.filter((value) => !found.has(value)), [], `trial ${String(trial)}: committed records missing`);
      }
    } finally {
      await producer.stop();
      await log.withAdmin((admin) => admin.deleteTopics([rolling]));
    }
  });

  it("fences a producer when a newer one claims its transactional id; one restarted with the id commits", async () => {
    const transactionalId = uniqueName('test-fenced');
    const older = await log.transactionalProducer({ transactionalId, transactionTimeoutMs: 10_000 });
    await older.fence();
    const open = await older.begin();
    await open.send([{ topic: txTopic, records: [{ key: 'zombie', value: 'zombie', partition: 0 }] }]);

    const newer = await log.transactionalProducer({ transactionalId, transactionTimeoutMs: 10_000 });
    await newer.fence();
    await assert.rejects(open.commit(), ProducerFencedError);
    await older.stop().catch(() => undefined);
    await newer.stop();

    // Restarted with the same id (a processor taking its partition again).
    const restarted = await log.transactionalProducer({ transactionalId, transactionTimeoutMs: 10_000 });
    await restarted.fence();
    const transaction = await restarted.begin();
    const offsets = await transaction.append(txTopic, [
      { key: 'after-restart-1', value: 'after-restart-1', partition: 1 },
      { key: 'after-restart-2', value: 'after-restart-2', partition: 1 },
    ]);
    await transaction.commit();
    await restarted.stop();

    const found = await readAll(txTopic, 2);
    assert.ok(!found.some((record) => record.value === 'zombie'), "the fenced producer's transaction never shows");
    const appended = found.filter((record) => record.value.startsWith('after-restart'));
    assert.deepEqual(
      appended.map((record) => [record.value, record.offset]),
      [['after-restart-1', offsets[0]], ['after-restart-2', offsets[1]]],
      'append answers the offsets the records are read back at',
    );
  });
});
