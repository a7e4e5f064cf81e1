/**
 * What a gateway knows of the command processors: the latest status of every
 * command partition (read from the status topic by the outcome listener), whether
 * each is served now, and a wait for one to be. A command for a partition that no
 * live owner serves waits here, bounded, rather than being produced into a
 * partition nobody reads.
 *
 * Nothing counts as served until the status topic has been read to its end once:
 * its history holds older `serving` records, fresh enough to look live, that a later
 * `released` in the same history overrides.
 */
import { applyStatus, isServing, unservedPartitions, type PartitionStatus } from '../command-processor/partition-status.js';

export interface PartitionReadiness {
  /** Applies a batch read from the status topic; `caughtUp` when it reached the topic's end. */
  apply(statuses: PartitionStatus[], caughtUp: boolean): void;
  /** The partitions no live owner serves now. */
  unserved(): number[];
  /** Where the partition's live owner takes commands directly, if it does. */
  ownerAddress(partition: number): string | undefined;
  /** Every owner address on record now. */
  addresses(): ReadonlySet<string>;
  /** Resolves to true once the partition is served, to false when `timeoutMs` passes first. */
  whenServed(partition: number, timeoutMs: number): Promise<boolean>;
}

export function createPartitionReadiness(partitions: number, staleMs: number): PartitionReadiness {
  const statuses = new Map<number, PartitionStatus>();
  const waiters = new Map<number, Set<() => void>>();
  let caughtUpOnce = false;
  const served = (partition: number) => caughtUpOnce && isServing(statuses.get(partition), Date.now(), staleMs);

  return {
    apply(batch, caughtUp) {
      for (const status of batch) applyStatus(statuses, status);
      caughtUpOnce ||= caughtUp;
      for (const [partition, waiting] of waiters) {
        if (!served(partition)) continue;
        for (const wake of waiting) wake();
        waiters.delete(partition);
      }
    },
    unserved: () =>
      caughtUpOnce ? unservedPartitions(statuses, partitions, Date.now(), staleMs) : Array.from({ length: partitions }, (_, index) => index),
    ownerAddress: (partition) => (served(partition) ? statuses.get(partition)?.address : undefined),
    addresses: () => new Set([...statuses.values()].flatMap((status) => (status.address === undefined ? [] : [status.address]))),
    whenServed(partition, timeoutMs) {
      if (served(partition)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          waiters.get(partition)?.delete(wake);
          resolve(false);
        }, timeoutMs);
        const waiting = waiters.get(partition) ?? new Set();
        waiting.add(wake);
        waiters.set(partition, waiting);
      });
    },
  };
}
