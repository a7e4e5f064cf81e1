/**
 * A projection's consumer-group offsets, committed at most once per interval. The
 * read model's own checkpoint moves with every stored batch (in the same Redis script,
 * or the same Elasticsearch bulk), and a redelivered event is skipped by its document's
 * version, so the group offset is only where a new owner starts reading again. One
 * commit per batch made every event cost each projection an offset commit to Kafka: at
 * low rates, a batch per event and another for its transaction marker.
 */
import type { GroupConsumer } from '../shared/kafka/log-client.js';
import type { Logger } from '../shared/logger.js';

export interface OffsetCommits {
  /** Everything of `partition` before `offset` is stored: commit it with the next round. */
  note(partition: number, offset: bigint): void;
  /** Partitions were reassigned: what was noted is no longer this member's to commit. */
  forget(): void;
  /** Commits what is noted now (on the way out). */
  flush(): Promise<void>;
  stop(): void;
}

export function throttledOffsetCommits(consumer: Pick<GroupConsumer, 'commit'>, topic: string, options: { intervalMs: number; logger: Logger }): OffsetCommits {
  const noted = new Map<number, bigint>();
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    if (noted.size === 0) return;
    const offsets = [...noted].map(([partition, offset]) => ({ topic, partition, offset }));
    noted.clear();
    await consumer.commit(offsets).catch((error: unknown) => {
      // Harmless: the next commit carries later offsets, and a new owner skips what was stored.
      options.logger.debug({ err: error, offsets: offsets.map(({ partition, offset }) => ({ partition, offset: offset.toString() })) }, 'could not commit offsets; the next round will');
    });
  };
  return {
    note(partition, offset) {
      if (offset > (noted.get(partition) ?? -1n)) noted.set(partition, offset);
      timer ??= setTimeout(() => void flush(), options.intervalMs);
    },
    forget() {
      noted.clear();
    },
    flush,
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
