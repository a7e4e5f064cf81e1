/**
 * What a gateway knows of the command processors: the latest status of every
 * command partition (read from the status topic by the outcome listener), whether
 * each is served now, and a wait for one to be. A command for a partition that no
 * live owner serves waits here, bounded, rather than being produced into a
 * partition nobody reads.
 */
import { applyStatus, isServing, unservedPartitions, type PartitionStatus } from '../command-processor/partition-status.js';

export interface PartitionReadiness {
  apply(status: PartitionStatus): void;
  /** The partitions no live owner serves now. */
  unserved(): number[];
  /** Resolves to true once the partition is served, to false when `timeoutMs` passes first. */
  whenServed(partition: number, timeoutMs: number): Promise<boolean>;
}

export function createPartitionReadiness(partitions: number, staleMs: number): PartitionReadiness {
  const statuses = new Map<number, PartitionStatus>();
  const waiters = new Map<number, Set<() => void>>();
  const served = (partition: number) => isServing(statuses.get(partition), Date.now(), staleMs);

  return {
    apply(status) {
      applyStatus(statuses, status);
      if (!served(status.partition)) return;
      for (const wake of waiters.get(status.partition) ?? []) wake();
      waiters.delete(status.partition);
    },
    unserved: () => unservedPartitions(statuses, partitions, Date.now(), staleMs),
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
