/**
 * Reading the dead-letter topic: once to its end (the CLI), or followed for as long
 * as a projector runs, so that it knows which aggregates are held and when a retry
 * or a drop releases them.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../shared/config.js';
import { fetchWaitMs } from '../shared/kafka-client.js';
import type { Logger } from '../shared/logger.js';
import { readPartitionsToEnd } from '../shared/partition-reader.js';
import { createDeadLetterBook, deadLetterTopic, decodeDeadLetterRecord, ensureDeadLetterTopic, type DeadLetter, type DeadLetterBook } from './dead-letters.js';

function addRecords(book: DeadLetterBook, messages: readonly KafkaMessage[], logger?: Logger): void {
  for (const message of messages) {
    try {
      book.add(decodeDeadLetterRecord(message));
    } catch (error) {
      logger?.warn({ err: error, offset: message.offset }, 'a record of the dead-letter topic is not a dead letter; ignored');
    }
  }
}

/** The dead letters as of now. */
export async function readDeadLetters(kafka: Kafka, config: Config): Promise<DeadLetterBook> {
  const book = createDeadLetterBook();
  // Before any projector ran there is no topic yet, and no letter either.
  await ensureDeadLetterTopic(kafka, config);
  await readPartitionsToEnd({
    kafka,
    topic: deadLetterTopic(config),
    partitions: [{ partition: 0, from: 0n }],
    groupPrefix: config.topics.prefix,
    onMessages: (_partition, messages) => { addRecords(book, messages); },
  });
  return book;
}

export interface DeadLetterView {
  /** Aggregates of a projection version (`order-details.v1`) with an open letter. */
  held(projectionVersion: string): ReadonlySet<string>;
  /** Whether an operator dropped the letter: its event is not to be dead-lettered again. */
  dropped(id: string): boolean;
  /** Counts letters this process sent before they come back through the topic. */
  noteSent(letters: readonly DeadLetter[]): void;
  /** Resolves once every record written to the topic before the call has been read. */
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Follows the topic from its beginning with a throwaway consumer group (it is one
 * partition of small records, kept whole: every projector reads all of it).
 */
export async function followDeadLetters(options: { kafka: Kafka; admin: Admin; config: Config; logger: Logger }): Promise<DeadLetterView> {
  const { kafka, admin, config, logger } = options;
  const topic = deadLetterTopic(config);
  const book = createDeadLetterBook();
  let position = 0n;
  const waiting = new Set<{ end: bigint; resolve: () => void }>();
  const moved = () => {
    for (const waiter of waiting) {
      if (position >= waiter.end) {
        waiting.delete(waiter);
        waiter.resolve();
      }
    }
  };

  // Long polls: a letter wakes the fetch, and the view lives as long as its projector.
  const consumer = kafka.consumer({ groupId: `${config.topics.prefix}.dead-letter-view-${randomUUID()}`, maxWaitTimeInMs: fetchWaitMs(config), allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      addRecords(book, batch.messages, logger);
      const last = BigInt(batch.lastOffset()) + 1n;
      if (last > position) position = last;
      moved();
      return Promise.resolve();
    },
  });

  return {
    held: (projectionVersion) => book.held(projectionVersion),
    dropped: (id) => book.get(id)?.resolution?.resolution === 'dropped',
    noteSent(letters) {
      for (const letter of letters) book.add(letter);
    },
    async catchUp() {
      const [end] = await admin.fetchTopicOffsets(topic);
      const target = BigInt(end?.offset ?? '0');
      if (position >= target) return;
      await new Promise<void>((resolve) => {
        waiting.add({ end: target, resolve });
        moved();
      });
    },
    async close() {
      await consumer.disconnect();
      for (const waiter of waiting) waiter.resolve();
    },
  };
}
