/**
 * The bounded partition reader against the real broker, on logs shaped like the
 * command processors write them: many small transactions, so that commit markers
 * sit between the records and at the edges of fetches, and reads that start on a
 * marker (a checkpoint's offset). Each read must deliver every committed record
 * from its start to the end exactly once, in order, and stop.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogClient } from '../../shared/kafka/kafkajs-client.js';
import type { TransactionalProducer } from '../../shared/kafka/log-client.js';
import { config, logger, uniqueName } from '../support/test-context.js';

const log = createLogClient(config, { clientId: 'strata-test', logger });
const topic = uniqueName('test-reader');
const partitions = [0, 1];
/** Record offsets per partition, in order, as written. */
const written = new Map<number, bigint[]>(partitions.map((partition) => [partition, []]));
let producer: TransactionalProducer;

async function read(from: Map<number, bigint>): Promise<{ seen: Map<number, bigint[]>; ends: Map<number, bigint> }> {
  const seen = new Map<number, bigint[]>(partitions.map((partition) => [partition, []]));
  const ends = await log.readToEnd({
    topic,
    partitions: partitions.map((partition) => ({ partition, from: from.get(partition) ?? 0n })),
    stallTimeoutMs: 20_000,
    onRecords: (partition, records) => {
      seen.get(partition)?.push(...records.map((record) => record.offset));
    },
  });
  return { seen, ends };
}

describe('partition reader', () => {
  before(async () => {
    await log.withAdmin((admin) => admin.createMissingTopics([{ topic, partitions: partitions.length }]));
    producer = await log.transactionalProducer({ transactionalId: topic, transactionTimeoutMs: 60_000 });
    await producer.fence();
    // 400 transactions of one to three 16 KB records each, plus an aborted one now and
    // then: fetches of a few MB end on records and on markers alike.
    const value = 'x'.repeat(16 * 1024);
    for (let index = 0; index < 400; index++) {
      const partition = index % partitions.length;
      const count = 1 + (index % 3);
      const transaction = await producer.begin();
      const offsets = await transaction.append(topic, Array.from({ length: count }, () => ({ key: null, value, partition })));
      if (index % 97 === 13) {
        await transaction.abort();
        continue;
      }
      await transaction.commit();
      written.get(partition)?.push(...offsets);
    }
  });
  after(async () => {
    await producer.stop();
    await log.withAdmin((admin) => admin.deleteTopics([topic]));
  });

  it('reads every committed record from the start to the end, once, in order', async () => {
    const { seen, ends } = await read(new Map());
    for (const partition of partitions) {
      assert.deepEqual(seen.get(partition), written.get(partition));
      const last = written.get(partition)?.at(-1) ?? 0n;
      assert.ok((ends.get(partition) ?? 0n) > last, 'the end is past the last record');
    }
  });

  it('starts on a commit marker, as a rebuild from a checkpoint does, and still reaches the end', async () => {
    // The offset right after a transaction's last record is its commit marker.
    for (const fraction of [0.1, 0.5, 0.9, 0.97]) {
      const from = new Map<number, bigint>();
      for (const partition of partitions) {
        const offsets = written.get(partition) ?? [];
        from.set(partition, (offsets[Math.floor(offsets.length * fraction)] ?? 0n) + 1n);
      }
      const { seen } = await read(from);
      for (const partition of partitions) {
        const start = from.get(partition) ?? 0n;
        assert.deepEqual(seen.get(partition), written.get(partition)?.filter((offset) => offset >= start), `from ${String(start)}`);
      }
    }
  });

  it('returns at once when a partition is already read to its end', async () => {
    const { ends } = await read(new Map());
    const { seen } = await read(ends);
    for (const partition of partitions) assert.deepEqual(seen.get(partition), []);
  });
});

/**
 * A read's end while transactions are undecided: the last stable offset stays before
 * the first record of a transaction not yet decided (one open, or committed but without
 * its markers yet), and records after it cannot be read committed until it is. A
 * transaction committed before the read began must be delivered all the same.
 */
describe('partition reader, behind an open transaction', () => {
  const openTopic = uniqueName('test-reader-open');
  const transactional = async (name: string) => {
    const made = await log.transactionalProducer({ transactionalId: uniqueName(name), transactionTimeoutMs: 60_000 });
    await made.fence();
    return made;
  };
  /** An open transaction's record on `partition`, then a committed one's after it. */
  const openThenCommitted = async (partition: number) => {
    const open = await transactional('test-open');
    const held = await open.begin();
    const [openOffset] = await held.append(openTopic, [{ key: null, value: 'open', partition }]);
    const committer = await transactional('test-committer');
    const transaction = await committer.begin();
    await transaction.append(openTopic, [{ key: null, value: 'committed', partition }]);
    await transaction.commit();
    await committer.stop();
    return { open, held, openOffset: openOffset ?? -1n };
  };
  const readValues = async (partition: number, settleTimeoutMs?: number) => {
    const values: string[] = [];
    const ends = await log.readToEnd({
      topic: openTopic,
      partitions: [{ partition, from: 0n }],
      ...(settleTimeoutMs === undefined ? {} : { settleTimeoutMs }),
      onRecords: (_, records) => { values.push(...records.map((record) => record.value?.toString() ?? '')); },
    });
    return { values, end: ends.get(partition) };
  };

  before(async () => {
    await log.withAdmin((admin) => admin.createMissingTopics([{ topic: openTopic, partitions: 2 }]));
  });
  after(async () => {
    await log.withAdmin((admin) => admin.deleteTopics([openTopic]));
  });

  it('delivers a transaction committed before the read began, once the open one before it ends', async () => {
    const { open, held } = await openThenCommitted(0);
    // The read begins with the committed record behind the open one; the open one aborts meanwhile.
    const reading = readValues(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await held.abort();
    await open.stop();
    assert.deepEqual((await reading).values, ['committed']);
  });

  it('ends at the open transaction when it outlasts settleTimeoutMs', async () => {
    const { open, held, openOffset } = await openThenCommitted(1);
    const started = Date.now();
    const { values, end } = await readValues(1, 300);
    assert.ok(Date.now() - started < 10_000, 'the read did not wait for the transaction');
    assert.deepEqual(values, []);
    assert.equal(end, openOffset, 'the end is the last stable offset: the open record');
    await held.abort();
    await open.stop();
  });
});
