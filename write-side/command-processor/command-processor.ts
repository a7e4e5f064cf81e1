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
import type { Config } from '../../shared/config.js';
import { groupMember } from '../../shared/kafka/group-settings.js';
import type { BatchContext, ConsumedBatch, GroupConsumer, LogClient } from '../../shared/kafka/log-client.js';
import type { Logger } from '../../shared/logger.js';
import type { Domain } from '../decider/domain.js';
import { ensureWriteSideTopics, processorGroup, writeSideTopics } from '../../shared/topics.js';
import { publishEventSchemas } from '../event-schema-topic.js';
import { internalSecret, internalVerifier } from '../../shared/auth/internal-credential.js';
import type { GrpcServer } from '../../shared/grpc-server.js';
import { hostPort } from '../../shared/network-address.js';
import { holdAssigned, ownerFailed, release, servingOwner, type HeldPartitions, type Ownership } from './held-partitions.js';
import { servePartitionOwner } from './owner-service.js';
import { takePartition, type PartitionOwner } from './partition-owner.js';
import { startStatusPublisher } from './status-publisher.js';
import { consistencyTokens } from '../../shared/consistency-token.js';

export interface CommandProcessor {
  stop(): Promise<void>;
}

interface ProcessorOptions {
  log: LogClient;
  config: Config;
  domain: Domain;
  logger: Logger;
}

export async function startCommandProcessor(options: ProcessorOptions): Promise<CommandProcessor> {
  const { log, config, logger } = options;
  const topic = writeSideTopics(config).commands;
  await ensureWriteSideTopics(log, config);
  // Operators and other consumers read the log's event schemas there (event-schema-topic.ts).
  await publishEventSchemas(log, config, options.domain);
  const ownerships = new Map<number, Ownership>();
  const tokens = consistencyTokens(internalSecret(config));
  // A failure is reported, and a batch handed over, only once the consumer has started:
  // `held` is made by then (it needs the server's address and the consumer).
  const grpc = config.writeSide.commandRoute === 'direct'
    ? await serveDirectRoute(options, (partition) => ownerships.get(partition)?.owner, (owner, error) => { void ownerFailed(held, owner, error); })
    : undefined;
  // Gateways on other hosts reach it at its advertised host.
  const status = await startStatusPublisher(log, config, logger, grpc && hostPort(config.network.advertisedHost, grpc.port));
  const consumer = log.groupConsumer({
    ...groupMember(config, processorGroup(config)),
    topics: [{ topic, fromBeginning: true }],
    partitionsConcurrently: config.topics.partitions,
    onAssigned: (assignment) => { holdAssigned(held, assignment.get(topic) ?? []); },
    onBatch: (batch, context) => handToOwner(held, batch, context),
  });
  const held: HeldPartitions = {
    ownerships,
    topic,
    consumer,
    status,
    logger,
    takeOwner: (partition, signal) => takePartition({ ...options, status, tokens, signal }, partition),
  };
  await consumer.start();
  return { stop: () => stopProcessor(held, consumer, grpc) };
}

/** The direct route's server: gateways hand commands to the partitions' owners over gRPC. */
function serveDirectRoute(
  { config, domain }: ProcessorOptions,
  ownerOf: (partition: number) => PartitionOwner | undefined,
  onFailure: (owner: PartitionOwner, error: unknown) => void,
): Promise<GrpcServer> {
  return servePartitionOwner({
    at: { host: config.network.bindHost, port: config.writeSide.processorGrpcPort },
    partitions: config.topics.partitions,
    domain,
    verifyCaller: internalVerifier(internalSecret(config)),
    ownerOf,
    onFailure,
  });
}

/** Hands a fetched batch to its partition's owner, which decides and commits it in one transaction. */
async function handToOwner(held: HeldPartitions, batch: ConsumedBatch, context: BatchContext): Promise<void> {
  const { partition, records } = batch;
  const owner = servingOwner(held, partition);
  const first = records[0];
  // A batch fetched before the partition was paused: fetched again once it is served.
  if (first === undefined || !context.isCurrent() || owner === undefined) return;
  try {
    await owner.process(records);
  } catch (error) {
    // Not advanced: the batch is fetched again from its first command.
    held.consumer.seek(held.topic, partition, first.offset);
    await ownerFailed(held, owner, error);
    return;
  }
  context.advance(batch.next);
  await context.heartbeat();
}

async function stopProcessor(held: HeldPartitions, consumer: GroupConsumer, grpc: GrpcServer | undefined): Promise<void> {
  await grpc?.stop();
  await consumer.stop();
  await Promise.all([...held.ownerships.keys()].map((partition) => release(held, partition)));
  await held.status.stop();
}
