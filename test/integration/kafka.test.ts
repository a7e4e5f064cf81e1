/**
 * The Kafka broker of the stack is real: partitions, keyed records, and
 * transactions whose aborted records a read_committed consumer never sees.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Partitioners, type Consumer, type Kafka } from 'kafkajs';
import { createKafka } from '../../shared/kafka-client.js';
import { config, logger, uniqueName } from '../support/test-context.js';

interface Seen {
  partition: number;
  offset: string;
  key: string;
  value: string;
}

/** Reads the whole topic from the start with the given isolation, until `expected` records arrived. */
async function readAll(kafka: Kafka, topic: string, readUncommitted: boolean, expected: number): Promise<Seen[]> {
  const consumer: Consumer = kafka.consumer({ groupId: uniqueName('test-reader'), readUncommitted });
  const seen: Seen[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`only ${seen.length} of ${expected} records arrived`)); }, 20_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? '',
            value: message.value?.toString() ?? '',
          });
          if (seen.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe('kafka', () => {
  const kafka = createKafka(config, { clientId: 'strata-test', logger });
  const admin = kafka.admin();
  const topic = uniqueName('test-keyed');
  const txTopic = uniqueName('test-tx');

  before(async () => {
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 3 },
        { topic: txTopic, numPartitions: 2 },
      ],
    });
  });

  after(async () => {
    await admin.deleteTopics({ topics: [topic, txTopic] });
    await admin.disconnect();
  });

  it('creates a topic with several partitions', async () => {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(metadata.topics[0]?.partitions.length, 3);
  });

  it('delivers keyed records in order, each key always to the same partition', async () => {
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const keys = ['order-1', 'order-2', 'order-3', 'order-4', 'order-5', 'order-6'];
    const messages = keys.flatMap((key) => [1, 2, 3].map((n) => ({ key, value: `${key}#${n}` })));
    await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();

    const seen = await readAll(kafka, topic, false, messages.length);
    assert.equal(seen.length, messages.length);
    for (const key of keys) {
      const ofKey = seen.filter((record) => record.key === key);
      assert.equal(new Set(ofKey.map((record) => record.partition)).size, 1, `${key} went to one partition`);
      const inOffsetOrder = [...ofKey].sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
      assert.deepEqual(inOffsetOrder.map((record) => record.value), [`${key}#1`, `${key}#2`, `${key}#3`]);
    }
    assert.ok(new Set(seen.map((record) => record.partition)).size > 1, 'keys spread over partitions');
  });

  it('shows a read_committed consumer only the committed transaction', async () => {
    const producer = kafka.producer({
      transactionalId: uniqueName('test-tx-producer'),
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 10_000,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic: txTopic, messages: [{ key: 'a', value: 'committed-1', partition: 0 }, { key: 'b', value: 'committed-2', partition: 1 }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic: txTopic, messages: [{ key: 'a', value: 'aborted-1', partition: 0 }, { key: 'b', value: 'aborted-2', partition: 1 }] });
    await aborted.abort();
    // A last committed record after the abort marker, so a reader knows when it has seen everything.
    const last = await producer.transaction();
    await last.send({ topic: txTopic, messages: [{ key: 'a', value: 'committed-3', partition: 0 }] });
    await last.commit();
    await producer.disconnect();

    const readCommitted = await readAll(kafka, txTopic, false, 3);
    assert.deepEqual(readCommitted.map((record) => record.value).sort(), ['committed-1', 'committed-2', 'committed-3']);

    // The aborted records really were written: a read_uncommitted consumer sees them.
    const readUncommitted = await readAll(kafka, txTopic, true, 5);
    assert.deepEqual(
      readUncommitted.map((record) => record.value).sort(),
      ['aborted-1', 'aborted-2', 'committed-1', 'committed-2', 'committed-3'],
    );
  });
});
