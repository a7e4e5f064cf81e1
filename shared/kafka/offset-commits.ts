/**
 * A consumer group's offsets, committed at most once per interval, for readers that
 * make a redelivered record harmless on their own: a projection (its read model's
 * checkpoint moves with every stored batch, and a redelivered event is skipped by its
 * document's version) and a saga (an instance remembers the inputs it handled). The
 * group offset is then only where a new owner starts reading again. One commit per
 * batch made every event cost each reader an offset commit, a replicated write to
 * Kafka: at low rates, a batch per event and another for its transaction marker.
 */
import type { Logger } from '../logger.js';
import type { GroupConsumer } from './log-client.js';

/** How often such a reader commits: the lag it reports from its group offsets trails by as much. */
export const offsetCommitIntervalMs = 1_000;

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
      // Harmless: tried again with the next round (unless a rebalance made them another
      // member's: forget()), and a new owner skips what was stored.
      options.logger.debug({ err: error, offsets: offsets.map(({ partition, offset }) => ({ partition, offset: offset.toString() })) }, 'could not commit offsets; the next round will');
      for (const { partition, offset } of offsets) note(partition, offset);
    });
  };
  const note = (partition: number, offset: bigint) => {
    if (offset > (noted.get(partition) ?? -1n)) noted.set(partition, offset);
    timer ??= setTimeout(() => void flush(), options.intervalMs);
  };
  return {
    note,
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
