/**
 * A command-processor process: one member of the consumer group on the commands
 * topic. It takes each partition it is assigned as soon as it is assigned
 * (partition-owner.ts: fence, rebuild), with the partition paused meanwhile, and
 * hands the owner every batch the consumer fetches, so that all pending commands of
 * a partition go into one transaction.
 *
 * One partition never takes the others down: a rebuild or a transaction that fails
 * is logged with its reason and the partition alone is taken again, after a backoff,
 * while the group and the other partitions go on. Taking runs beside the consumer,
 * not inside a batch handler, so heartbeats go on during a long rebuild.
 *
 * Ownership is lost in two ways. A rebalance that moves a partition away: the
 * owner is closed (or its rebuild abandoned). Being fenced by a newer owner (this
 * process was paused or cut off past its session timeout): the owner is dropped and
 * the partition stays paused until the group assigns it again, so that this process
 * never fences the new owner back on a stale assignment.
 *
 * Each partition's phase (fencing, rebuilding with progress, serving, failed) is
 * published on the status topic (status-publisher.ts) for the gateways' readiness
 * and `strata processors status`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka } from 'kafkajs';
import type { Config } from '../../shared/config.js';
import { groupMemberOptions } from '../../shared/kafka-client.js';
import type { Logger } from '../../shared/logger.js';
import type { Domain } from '../decider/domain.js';
import { ensureWriteSideTopics, processorGroup, writeSideTopics } from '../../shared/topics.js';
import { servePartitionOwner } from './owner-service.js';
import { takePartition, type PartitionOwner } from './partition-owner.js';
import { startStatusPublisher } from './status-publisher.js';

export interface CommandProcessor {
  stop(): Promise<void>;
}

const fencingErrors = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);
/** PRODUCER_FENCED, which kafkajs 2.2.4 does not name. */
const producerFencedCode = 90;

/** A fencing error, possibly wrapped by kafkajs's retrier (it keeps the original as `cause`). */
function isFencing(error: unknown): boolean {
  for (let current = error as { type?: unknown; code?: unknown; cause?: unknown } | undefined; current; ) {
    if (typeof current.type === 'string' && fencingErrors.has(current.type)) return true;
    if (current.code === producerFencedCode) return true;
    current = current.cause as typeof current | undefined;
  }
  return false;
}

/** Backoff before taking a partition again: 0.5 s, doubling, at most 10 s. */
const retryDelayMs = (attempt: number) => Math.min(10_000, 500 * 2 ** attempt);

interface Ownership {
  /** Set once the partition is rebuilt and served. */
  owner?: PartitionOwner;
  /** Aborted when the partition is released: a rebuild under way is abandoned. */
  released: AbortController;
  taking: Promise<void>;
}

export async function startCommandProcessor(options: {
  kafka: Kafka;
  config: Config;
  domain: Domain;
  logger: Logger;
}): Promise<CommandProcessor> {
  const { kafka, config, logger } = options;
  const topics = writeSideTopics(config);
  await ensureWriteSideTopics(kafka, config);
  const held = new Map<number, Ownership>();
  const grpc = config.writeSide.commandRoute === 'direct'
    ? await servePartitionOwner({
        port: config.writeSide.processorGrpcPort,
        partitions: config.topics.partitions,
        ownerOf: (partition) => held.get(partition)?.owner,
        onFailure: (owner, error) => { void failed(owner, error); },
      })
    : undefined;
  const status = await startStatusPublisher(kafka, config, logger, grpc && `127.0.0.1:${String(grpc.port)}`);
  const consumer: Consumer = kafka.consumer(groupMemberOptions(config, processorGroup(config)));
  const only = (partition: number) => [{ topic: topics.commands, partitions: [partition] }];

  /** Starts taking the partition; it stays paused until its owner serves. */
  const take = (partition: number) => {
    if (held.has(partition)) return;
    consumer.pause(only(partition));
    const released = new AbortController();
    const ownership: Ownership = { released, taking: Promise.resolve() };
    held.set(partition, ownership);
    // A function, not a property read: the flag changes across the awaits below.
    const isReleased = () => released.signal.aborted;
    ownership.taking = (async () => {
      for (let attempt = 0; !isReleased(); attempt++) {
        try {
          const owner = await takePartition({ ...options, status, signal: released.signal }, partition);
          if (isReleased()) {
            await owner.close();
            return;
          }
          ownership.owner = owner;
          status.phase(partition, 'serving');
          consumer.resume(only(partition));
          return;
        } catch (error) {
          if (isReleased()) return;
          const delay = retryDelayMs(attempt);
          logger.error({ partition, attempt: attempt + 1, retryInMs: delay, err: error }, 'could not take the partition; trying again');
          status.phase(partition, 'failed', { error: error instanceof Error ? error.message : String(error) });
          await sleep(delay, undefined, { signal: released.signal }).catch(() => undefined);
        }
      }
    })();
  };

  /** Lets the partition go: a rebuild under way is abandoned, an owner closed. */
  const release = async (partition: number) => {
    const ownership = held.get(partition);
    if (ownership === undefined) return;
    held.delete(partition);
    ownership.released.abort();
    await ownership.taking;
    await ownership.owner?.close().catch(() => undefined);
    status.release(partition);
  };

  /**
   * The owner's transaction failed: it is unusable. Fenced by a newer owner, the partition
   * stays paused until the group assigns it again; otherwise it is taken again at once.
   * Only the first report of an owner's failure acts (a direct batch and a topic batch may
   * both report it, and the partition may be held anew by then).
   */
  const failed = async (owner: PartitionOwner, error: unknown) => {
    const { partition } = owner;
    if (held.get(partition)?.owner !== owner) return;
    await release(partition);
    if (isFencing(error)) {
      logger.warn({ partition, err: error }, 'fenced by a newer owner; partition paused until reassigned');
      consumer.pause(only(partition));
      return;
    }
    logger.warn({ partition, err: error }, 'batch failed; the partition will be taken again');
    take(partition);
  };

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assigned = new Set(payload.memberAssignment[topics.commands] ?? []);
    logger.info({ partitions: [...assigned] }, 'command partitions assigned');
    for (const partition of held.keys()) if (!assigned.has(partition)) void release(partition);
    for (const partition of assigned) take(partition);
  });

  await consumer.connect();
  await consumer.subscribe({ topic: topics.commands, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: config.topics.partitions,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const { partition } = batch;
      const owner = held.get(partition)?.owner;
      // A batch fetched before the partition was paused: fetched again once it is served.
      if (batch.isEmpty() || payload.isStale() || owner === undefined) return;
      try {
        await owner.process(batch.messages);
      } catch (error) {
        // Not resolved: the batch is fetched again from its first command.
        consumer.seek({ topic: topics.commands, partition, offset: batch.messages[0]?.offset ?? batch.firstOffset() ?? '0' });
        await failed(owner, error);
        return;
      }
      payload.resolveOffset(batch.lastOffset());
      await payload.heartbeat();
    },
  });

  return {
    async stop() {
      await grpc?.stop();
      await consumer.disconnect();
      await Promise.all([...held.keys()].map(release));
      await status.stop();
    },
  };
}
