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
