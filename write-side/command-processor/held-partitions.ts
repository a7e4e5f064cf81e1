/**
 * The command partitions a processor holds, from taking to letting go: a partition is
 * taken as soon as it is assigned, paused until its owner serves, and taken again
 * after a backoff when taking it fails; an owner whose transaction failed is dropped,
 * and its partition taken again at once, or, fenced by a newer owner, left paused
 * until the group assigns it again.
 */
import { ProducerFencedError } from '../../shared/errors.js';
import type { GroupConsumer } from '../../shared/kafka/log-client.js';
import type { Logger } from '../../shared/logger.js';
import { retry } from '../../shared/retry.js';
import type { PartitionOwner } from './partition-owner.js';
import type { StatusPublisher } from './status-publisher.js';

export interface Ownership {
  /** Set once the partition is rebuilt and served. */
  owner?: PartitionOwner;
  /** Aborted when the partition is released: a rebuild under way is abandoned. */
  released: AbortController;
  taking: Promise<void>;
}

export interface HeldPartitions {
  /** By partition: the ones being taken and the ones served. */
  readonly ownerships: Map<number, Ownership>;
  /** The commands topic, and the group member that fetches it. */
  readonly topic: string;
  readonly consumer: Pick<GroupConsumer, 'pause' | 'resume' | 'seek'>;
  readonly status: StatusPublisher;
  readonly logger: Logger;
  /** Fences and rebuilds the partition (partition-owner.ts); `signal` abandons the rebuild. */
  readonly takeOwner: (partition: number, signal: AbortSignal) => Promise<PartitionOwner>;
}

/** The owner serving the partition here, if any. */
export const servingOwner = (held: HeldPartitions, partition: number) => held.ownerships.get(partition)?.owner;

/** The group's new assignment: partitions no longer assigned are let go, the assigned ones taken. */
export function holdAssigned(held: HeldPartitions, partitions: readonly number[]): void {
  const assigned = new Set(partitions);
  held.logger.info({ partitions: [...assigned] }, 'command partitions assigned');
  for (const partition of held.ownerships.keys()) if (!assigned.has(partition)) void release(held, partition);
  for (const partition of assigned) take(held, partition);
}

/** Backoff before taking a partition again: 0.5 s, doubling, at most 10 s. */
const takeBackoff = { firstDelayMs: 500, maxDelayMs: 10_000 };

/** Starts taking the partition; it stays paused until its owner serves. */
function take(held: HeldPartitions, partition: number): void {
  if (held.ownerships.has(partition)) return;
  held.consumer.pause(held.topic, partition);
  const released = new AbortController();
  const ownership: Ownership = { released, taking: Promise.resolve() };
  held.ownerships.set(partition, ownership);
  ownership.taking = retry(() => takeOnce(held, partition, ownership), {
    ...takeBackoff,
    signal: released.signal,
    onFailure: (error, attempt, delayMs) => {
      held.logger.error({ partition, attempt, retryInMs: delayMs, err: error }, 'could not take the partition; trying again');
      held.status.phase(partition, 'failed', { error: error instanceof Error ? error.message : String(error) });
    },
  }).catch((error: unknown) => {
    // Taking ends only once done or released: the release's abort is how it stops.
    if (!released.signal.aborted) throw error;
  });
}

/** One attempt at taking the partition: once its owner serves, the partition is fetched again. */
async function takeOnce(held: HeldPartitions, partition: number, ownership: Ownership): Promise<void> {
  const { signal } = ownership.released;
  const owner = await held.takeOwner(partition, signal);
  // Read after the await: the partition may have been released meanwhile.
  if (signal.aborted) {
    await owner.close();
    return;
  }
  ownership.owner = owner;
  held.status.phase(partition, 'serving');
  held.consumer.resume(held.topic, partition);
}

/** Lets the partition go: a rebuild under way is abandoned, an owner closed. */
export async function release(held: HeldPartitions, partition: number): Promise<void> {
  const ownership = held.ownerships.get(partition);
  if (ownership === undefined) return;
  held.ownerships.delete(partition);
  ownership.released.abort();
  await ownership.taking;
  await ownership.owner?.close().catch(() => undefined);
  held.status.release(partition);
}

/**
 * The owner's transaction failed: it is unusable. Fenced by a newer owner, the partition
 * stays paused until the group assigns it again; otherwise it is taken again at once.
 * Only the first report of an owner's failure acts (a direct batch and a topic batch may
 * both report it, and the partition may be held anew by then).
 */
export async function ownerFailed(held: HeldPartitions, owner: PartitionOwner, error: unknown): Promise<void> {
  const { partition } = owner;
  if (servingOwner(held, partition) !== owner) return;
  await release(held, partition);
  if (error instanceof ProducerFencedError) {
    held.logger.warn({ partition, err: error }, 'fenced by a newer owner; partition paused until reassigned');
    held.consumer.pause(held.topic, partition);
    return;
  }
  held.logger.warn({ partition, err: error }, 'batch failed; the partition will be taken again');
  take(held, partition);
}
