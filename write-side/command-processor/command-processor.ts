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
import type { Config } from '../../shared/config.js';
import { ProducerFencedError } from '../../shared/errors.js';
import { groupMember } from '../../shared/kafka/group-settings.js';
import type { LogClient } from '../../shared/kafka/log-client.js';
import type { Logger } from '../../shared/logger.js';
import type { Domain } from '../decider/domain.js';
import { ensureWriteSideTopics, processorGroup, writeSideTopics } from '../../shared/topics.js';
import { publishEventSchemas } from '../event-schema-topic.js';
import { internalSecret, internalVerifier } from '../../shared/auth/internal-credential.js';
import { hostPort } from '../../shared/network-address.js';
import { servePartitionOwner } from './owner-service.js';
import { takePartition, type PartitionOwner } from './partition-owner.js';
import { startStatusPublisher } from './status-publisher.js';
import { consistencyTokens } from '../../shared/consistency-token.js';

export interface CommandProcessor {
  stop(): Promise<void>;
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
  log: LogClient;
  config: Config;
  domain: Domain;
  logger: Logger;
}): Promise<CommandProcessor> {
  const { log, config, logger } = options;
  const topics = writeSideTopics(config);
  await ensureWriteSideTopics(log, config);
  // Operators and other consumers read the log's event schemas there (event-schema-topic.ts).
  await publishEventSchemas(log, config, options.domain);
  const held = new Map<number, Ownership>();
  const tokens = consistencyTokens(internalSecret(config));
  const grpc = config.writeSide.commandRoute === 'direct'
    ? await servePartitionOwner({
        at: { host: config.network.bindHost, port: config.writeSide.processorGrpcPort },
        partitions: config.topics.partitions,
        domain: options.domain,
        verifyCaller: internalVerifier(internalSecret(config)),
        ownerOf: (partition) => held.get(partition)?.owner,
        onFailure: (owner, error) => { void failed(owner, error); },
      })
    : undefined;
  // Gateways on other hosts reach it at its advertised host.
  const status = await startStatusPublisher(log, config, logger, grpc && hostPort(config.network.advertisedHost, grpc.port));

  /** Starts taking the partition; it stays paused until its owner serves. */
  const take = (partition: number) => {
    if (held.has(partition)) return;
    consumer.pause(topics.commands, partition);
    const released = new AbortController();
    const ownership: Ownership = { released, taking: Promise.resolve() };
    held.set(partition, ownership);
    // A function, not a property read: the flag changes across the awaits below.
    const isReleased = () => released.signal.aborted;
    ownership.taking = (async () => {
      for (let attempt = 0; !isReleased(); attempt++) {
        try {
          const owner = await takePartition({ ...options, status, tokens, signal: released.signal }, partition);
          if (isReleased()) {
            await owner.close();
            return;
          }
          ownership.owner = owner;
          status.phase(partition, 'serving');
          consumer.resume(topics.commands, partition);
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
    if (error instanceof ProducerFencedError) {
      logger.warn({ partition, err: error }, 'fenced by a newer owner; partition paused until reassigned');
      consumer.pause(topics.commands, partition);
      return;
    }
    logger.warn({ partition, err: error }, 'batch failed; the partition will be taken again');
    take(partition);
  };

  const consumer = log.groupConsumer({
    ...groupMember(config, processorGroup(config)),
    topics: [{ topic: topics.commands, fromBeginning: true }],
    partitionsConcurrently: config.topics.partitions,
    onAssigned: (assignment) => {
      const assigned = new Set(assignment.get(topics.commands) ?? []);
      logger.info({ partitions: [...assigned] }, 'command partitions assigned');
      for (const partition of held.keys()) if (!assigned.has(partition)) void release(partition);
      for (const partition of assigned) take(partition);
    },
    onBatch: async (batch, context) => {
      const { partition, records } = batch;
      const owner = held.get(partition)?.owner;
      const first = records[0];
      // A batch fetched before the partition was paused: fetched again once it is served.
      if (first === undefined || !context.isCurrent() || owner === undefined) return;
      try {
        await owner.process(records);
      } catch (error) {
        // Not advanced: the batch is fetched again from its first command.
        consumer.seek(topics.commands, partition, first.offset);
        await failed(owner, error);
        return;
      }
      context.advance(batch.next);
      await context.heartbeat();
    },
  });
  await consumer.start();

  return {
    async stop() {
      await grpc?.stop();
      await consumer.stop();
      await Promise.all([...held.keys()].map(release));
      await status.stop();
    },
  };
}
