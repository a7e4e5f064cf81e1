/**
 * The event log's topics: the contract between the write side, which produces them,
 * and the projections and tools that read them. Created by the platform at start
 * with the configured partition count. The commands and events topics have the same
 * count: the owner of commands partition p is the only writer of events partition p.
 */
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import type { LogAdmin, LogClient, TopicSpec } from './kafka/log-client.js';
import { streamKeyOf } from './auth/tenants.js';
import { partitionOfKey } from './kafka/partitioner.js';

export interface WriteSideTopics {
  commands: string;
  events: string;
  snapshots: string;
  results: string;
  /** Each command partition's owner and what it is doing (partition-status.ts). */
  status: string;
  /** The schema of every (aggregate, event type, version) an app declared (write-side/event-schema-topic.ts). */
  eventSchemas: string;
}

export function writeSideTopics(config: Pick<Config, 'topics'>): WriteSideTopics {
  const prefix = config.topics.prefix;
  return {
    commands: `${prefix}.commands`,
    events: `${prefix}.events`,
    snapshots: `${prefix}.snapshots`,
    results: `${prefix}.command-results`,
    status: `${prefix}.processor-status`,
    eventSchemas: `${prefix}.event-schemas`,
  };
}

/**
 * The commands and events partition of a tenant's aggregate: the Java-compatible
 * partitioner over the key, its stream key (the partition of every record keyed by it).
 */
export const partitionOfAggregate = (tenant: string, aggregateId: string, partitions: number): number =>
  partitionOfKey(streamKeyOf(tenant, aggregateId), partitions);

/** Consumer group of the command processors. */
export const processorGroup = (config: Pick<Config, 'topics'>) => `${config.topics.prefix}.command-processors`;

/** Transactional id of the owner of partition p: one per input partition (zombie fencing). */
export const transactionalId = (config: Pick<Config, 'topics'>, partition: number) =>
  `${config.topics.prefix}.processor-${partition}`;

function topicSpecs(config: Pick<Config, 'topics'>): TopicSpec[] {
  const topics = writeSideTopics(config);
  const partitions = config.topics.partitions;
  return [
    // Commands are work to do: a week covers any outage worth surviving.
    { topic: topics.commands, partitions, config: { 'retention.ms': String(7 * 24 * 3600_000) } },
    // The event log is the source of truth: kept forever.
    { topic: topics.events, partitions, config: { 'retention.ms': '-1', 'retention.bytes': '-1' } },
    // One record per aggregate (key) and per partition checkpoint: only the latest matters.
    // A rebuild reads the whole partition, and compaction never touches the active
    // segment: small segments keep what it reads close to one snapshot per aggregate.
    {
      topic: topics.snapshots,
      partitions,
      config: {
        'cleanup.policy': 'compact',
        'min.cleanable.dirty.ratio': '0.1',
        'segment.ms': String(60_000),
        'segment.bytes': String(16 * 1024 * 1024),
        'max.message.bytes': String(16 * 1024 * 1024),
      },
    },
    // Outcomes the gateways wait for and answer GET /commands/{id} from.
    { topic: topics.results, partitions, config: { 'retention.ms': String(24 * 3600_000) } },
    // The latest status of each command partition (keyed by partition), refreshed every few
    // seconds: short segments so that compaction keeps a reader's start small.
    { topic: topics.status, partitions: 1, config: { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': String(60_000) } },
    // One record per (aggregate, event type, version) ever declared: kept forever, the latest of each.
    { topic: topics.eventSchemas, partitions: 1, config: { 'cleanup.policy': 'compact' } },
  ];
}

/**
 * Creates the missing topics; checks that existing commands and events topics
 * have the configured partition count, since ownership depends on it.
 */
export async function ensureWriteSideTopics(log: LogClient, config: Pick<Config, 'topics'>): Promise<void> {
  await log.withAdmin((admin) => createAndCheck(admin, config));
}

/** Deletes the write side's topics: for tests that made their own, under a unique prefix. */
export async function deleteWriteSideTopics(log: LogClient, config: Pick<Config, 'topics'>): Promise<void> {
  const topics = writeSideTopics(config);
  await log.withAdmin((admin) => admin.deleteTopics([topics.commands, topics.events, topics.snapshots, topics.results, topics.status, topics.eventSchemas]));
}

async function createAndCheck(admin: LogAdmin, config: Pick<Config, 'topics'>): Promise<void> {
  await admin.createMissingTopics(topicSpecs(config));
  const topics = writeSideTopics(config);
  const counts = await admin.partitionCounts([topics.commands, topics.events, topics.snapshots]);
  for (const [topic, partitions] of counts) {
    if (partitions !== config.topics.partitions) {
      throw new ConfigError(
        'STRATA_PARTITIONS',
        String(config.topics.partitions),
        `topic ${topic} exists with ${String(partitions)} partitions; the commands, events and snapshots topics must all have STRATA_PARTITIONS`,
      );
    }
  }
}
