/**
 * A command-processor process: one member of the consumer group on the commands
 * topic. For each partition it is assigned, it takes ownership (partition-owner.ts)
 * and hands it every batch the consumer fetches, so that all pending commands of a
 * partition go into one transaction.
 *
 * Ownership is lost in two ways. A rebalance that moves a partition away: the
 * owner is closed. Being fenced by a newer owner (this process was paused or cut
 * off past its session timeout): the owner is dropped and the partition is paused
 * until the group assigns it again, so that this process never fences the new
 * owner back on a stale assignment.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Config } from '../../shared/config.js';
import { groupMemberOptions } from '../../shared/kafka-client.js';
import type { Logger } from '../../shared/logger.js';
import type { Domain } from '../decider/domain.js';
import { ensureWriteSideTopics, processorGroup, writeSideTopics } from '../topics.js';
import { takePartition, type PartitionOwner } from './partition-owner.js';

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

export async function startCommandProcessor(options: {
  kafka: Kafka;
  config: Config;
  domain: Domain;
  logger: Logger;
}): Promise<CommandProcessor> {
  const { kafka, config, logger } = options;
  const topics = writeSideTopics(config);
  await ensureWriteSideTopics(kafka, config);
  const owners = new Map<number, Promise<PartitionOwner>>();
  const fenced = new Set<number>();

  const consumer: Consumer = kafka.consumer(groupMemberOptions(config, processorGroup(config), 20));

  const drop = async (partition: number) => {
    const owner = owners.get(partition);
    owners.delete(partition);
    await owner?.then((taken) => taken.close()).catch(() => undefined);
  };

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assigned = new Set(payload.memberAssignment[topics.commands] ?? []);
    logger.info({ partitions: [...assigned] }, 'command partitions assigned');
    for (const partition of owners.keys()) if (!assigned.has(partition)) void drop(partition);
    if (fenced.size > 0) {
      consumer.resume([{ topic: topics.commands, partitions: [...fenced] }]);
      fenced.clear();
    }
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
      if (batch.isEmpty() || fenced.has(partition) || payload.isStale()) return;
      let owner = owners.get(partition);
      if (owner === undefined) {
        owner = takePartition(options, partition);
        owners.set(partition, owner);
        owner.catch(() => owners.delete(partition));
      }
      try {
        await (await owner).process(batch.messages);
      } catch (error) {
        await drop(partition);
        if (isFencing(error)) {
          logger.warn({ partition, err: error }, 'fenced by a newer owner; partition paused until reassigned');
          fenced.add(partition);
          consumer.pause([{ topic: topics.commands, partitions: [partition] }]);
          return;
        }
        logger.warn({ partition, err: error }, 'batch failed; the partition will be taken again');
        throw error;
      }
      payload.resolveOffset(batch.lastOffset());
      await payload.heartbeat();
    },
  });

  return {
    async stop() {
      await consumer.disconnect();
      await Promise.all([...owners.keys()].map(drop));
    },
  };
}
