/**
 * Reads chosen partitions of a topic, read_committed, from given offsets up to the
 * end they had when the read began, then stops. The command processors rebuild
 * their state with it; tools that scan the log use it too.
 *
 * The end is the last stable offset, and transaction markers take offsets without
 * ever being delivered, so "done" is decided on offsets (kafkajs reports batches
 * of markers only through END_BATCH_PROCESS), never on the last message seen.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface PartitionStart {
  partition: number;
  /** First offset to read. */
  from: bigint;
}

export type OnMessages = (partition: number, messages: KafkaMessage[]) => void | Promise<void>;

export interface ReadOptions {
  kafka: Kafka;
  topic: string;
  partitions: readonly PartitionStart[];
  /** Prefix of the throwaway consumer group the read uses. */
  groupPrefix: string;
  onMessages: OnMessages;
  timeoutMs?: number;
  /** Also deliver records of aborted and open transactions (for checks that they exist). */
  readUncommitted?: boolean;
}

/** Resolves to the offset each partition was read up to (its end). */
export async function readPartitionsToEnd(options: ReadOptions): Promise<Map<number, bigint>> {
  const { kafka, topic, onMessages } = options;
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.map((entry) => [entry.partition, BigInt(entry.offset)]));
  } finally {
    await admin.disconnect();
  }

  // Per partition still being read: the next offset to deliver. Batches fetched before
  // the seek takes effect, or again after it, can overlap: nothing is delivered twice.
  const pending = new Map<number, bigint>();
  for (const { partition, from } of options.partitions) {
    const end = ends.get(partition);
    if (end === undefined) throw new Error(`${topic} has no partition ${partition}`);
    if (from < end) pending.set(partition, from);
  }
  const result = new Map(options.partitions.map(({ partition }) => [partition, ends.get(partition) ?? 0n]));
  if (pending.size === 0) return result;

  const consumer = kafka.consumer({
    groupId: `${options.groupPrefix}.reader-${randomUUID()}`,
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  let finish: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const reached = (partition: number, lastOffset: string) => {
    const end = ends.get(partition) ?? 0n;
    if (pending.has(partition) && BigInt(lastOffset) >= end - 1n) {
      pending.delete(partition);
      if (pending.size === 0) finish();
    }
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    // Batches of markers or aborted records only: nothing to deliver, but offsets move on.
    if (payload.topic === topic && payload.batchSize === 0) reached(payload.partition, payload.lastOffset);
  });
  const timer = setTimeout(() => {
    fail(new Error(`reading ${topic} did not reach the end within ${options.timeoutMs ?? 60_000} ms`));
  }, options.timeoutMs ?? 60_000);

  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const next = pending.get(batch.partition);
        if (next === undefined) return;
        const end = ends.get(batch.partition) ?? 0n;
        const messages = batch.messages.filter((message) => {
          const offset = BigInt(message.offset);
          return offset >= next && offset < end;
        });
        if (messages.length > 0) {
          await onMessages(batch.partition, messages);
          pending.set(batch.partition, BigInt(messages[messages.length - 1]?.offset ?? '0') + 1n);
        }
        if (BigInt(batch.firstOffset() ?? '0') <= next) reached(batch.partition, batch.lastOffset());
      },
    });
    for (const [partition, from] of pending) consumer.seek({ topic, partition, offset: from.toString() });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return result;
}
