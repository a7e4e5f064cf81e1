/**
 * Reading the dead-letter topic: once to its end (the CLI), or followed for as long
 * as a projector runs, so that it knows which aggregates are held and when a retry
 * or a drop releases them.
 */
import type { Config } from '../shared/config.js';
import { fetchWaitMs } from '../shared/kafka/group-settings.js';
import type { LogAdmin, LogClient, LogRecord } from '../shared/kafka/log-client.js';
import type { Logger } from '../shared/logger.js';
import { createDeadLetterBook, deadLetterTopic, decodeDeadLetterRecord, ensureDeadLetterTopic, type DeadLetter, type DeadLetterBook } from './dead-letters.js';

function addRecords(book: DeadLetterBook, records: readonly LogRecord[], logger?: Logger): void {
  for (const record of records) {
    try {
      book.add(decodeDeadLetterRecord(record));
    } catch (error) {
      logger?.warn({ err: error, offset: record.offset.toString() }, 'a record of the dead-letter topic is not a dead letter; ignored');
    }
  }
}

/** The dead letters as of now. */
export async function readDeadLetters(log: LogClient, config: Config): Promise<DeadLetterBook> {
  const book = createDeadLetterBook();
  // Before any projector ran there is no topic yet, and no letter either.
  await ensureDeadLetterTopic(log, config);
  await log.readToEnd({
    topic: deadLetterTopic(config),
    partitions: [{ partition: 0, from: 0n }],
    onRecords: (_partition, records) => { addRecords(book, records); },
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
 * Follows the topic from its beginning (it is one partition of small records, kept
 * whole: every projector reads all of it).
 */
export async function followDeadLetters(options: { log: LogClient; admin: LogAdmin; config: Config; logger: Logger }): Promise<DeadLetterView> {
  const { log, admin, config, logger } = options;
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
  const follower = await log.follow({
    name: 'dead-letter-view',
    topics: [{ topic, from: 'beginning' }],
    maxWaitMs: fetchWaitMs(config),
    onBatch: (batch) => {
      addRecords(book, batch.records, logger);
      if (batch.next > position) position = batch.next;
      moved();
    },
  });

  return {
    held: (projectionVersion) => book.held(projectionVersion),
    dropped: (id) => book.get(id)?.resolution?.resolution === 'dropped',
    noteSent(letters) {
      for (const letter of letters) book.add(letter);
    },
    async catchUp() {
      const [end] = await admin.offsets(topic);
      const target = end?.end ?? 0n;
      if (position >= target) return;
      await new Promise<void>((resolve) => {
        waiting.add({ end: target, resolve });
        moved();
      });
    },
    async close() {
      await follower.stop();
      for (const waiter of waiting) waiter.resolve();
    },
  };
}
