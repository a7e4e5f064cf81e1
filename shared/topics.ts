/**
 * The event log's topics: the contract between the write side, which produces them,
 * and the projections and tools that read them. Created by the platform at start
 * with the configured partition count. The commands and events topics have the same
 * count: the owner of commands partition p is the only writer of events partition p.
 */
import { Partitioners, type Admin, type ITopicConfig, type Kafka, type PartitionMetadata } from 'kafkajs';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import { createMissingTopics, withAdmin } from './topic-admin.js';

export interface WriteSideTopics {
  commands: string;
  events: string;
  snapshots: string;
  results: string;
  /** Each command partition's owner and what it is doing (partition-status.ts). */
  status: string;
}

export function writeSideTopics(config: Pick<Config, 'topics'>): WriteSideTopics {
  const prefix = config.topics.prefix;
  return {
    commands: `${prefix}.commands`,
    events: `${prefix}.events`,
    snapshots: `${prefix}.snapshots`,
    results: `${prefix}.command-results`,
    status: `${prefix}.processor-status`,
  };
}

/**
 * The commands and events partition of an aggregate: kafkajs's default (Java-compatible
 * murmur2) partitioner over the key, the aggregate id. The gateway names it on every
 * command it produces.
 */
export function partitionOfAggregate(aggregateId: string, partitions: number): number {
  return partitioner({ topic: '', partitionMetadata: metadataOf(partitions), message: { key: aggregateId, value: null } });
}

// The gateway asks for every command: the partitioner and its metadata are made once per count.
const partitioner = Partitioners.DefaultPartitioner();
const metadata = new Map<number, PartitionMetadata[]>();
function metadataOf(partitions: number): PartitionMetadata[] {
  let known = metadata.get(partitions);
  if (known === undefined) {
    known = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
    metadata.set(partitions, known);
  }
  return known;
}

/** Consumer group of the command processors. */
export const processorGroup = (config: Pick<Config, 'topics'>) => `${config.topics.prefix}.command-processors`;

/** Transactional id of the owner of partition p: one per input partition (zombie fencing). */
export const transactionalId = (config: Pick<Config, 'topics'>, partition: number) =>
  `${config.topics.prefix}.processor-${partition}`;

function topicConfigs(config: Pick<Config, 'topics'>): ITopicConfig[] {
  const topics = writeSideTopics(config);
  const numPartitions = config.topics.partitions;
  return [
    // Commands are work to do: a week covers any outage worth surviving.
    { topic: topics.commands, numPartitions, configEntries: [{ name: 'retention.ms', value: String(7 * 24 * 3600_000) }] },
    // The event log is the source of truth: kept forever.
    {
      topic: topics.events,
      numPartitions,
      configEntries: [
        { name: 'retention.ms', value: '-1' },
        { name: 'retention.bytes', value: '-1' },
      ],
    },
    // One record per aggregate (key) and per partition checkpoint: only the latest matters.
    // A rebuild reads the whole partition, and compaction never touches the active
    // segment: small segments keep what it reads close to one snapshot per aggregate.
    {
      topic: topics.snapshots,
      numPartitions,
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'min.cleanable.dirty.ratio', value: '0.1' },
        { name: 'segment.ms', value: String(60_000) },
        { name: 'segment.bytes', value: String(16 * 1024 * 1024) },
        { name: 'max.message.bytes', value: String(16 * 1024 * 1024) },
      ],
    },
    // Outcomes the gateways wait for and answer GET /commands/{id} from.
    { topic: topics.results, numPartitions, configEntries: [{ name: 'retention.ms', value: String(24 * 3600_000) }] },
    // The latest status of each command partition (keyed by partition), refreshed every few
    // seconds: short segments so that compaction keeps a reader's start small.
    {
      topic: topics.status,
      numPartitions: 1,
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'min.cleanable.dirty.ratio', value: '0.1' },
        { name: 'segment.ms', value: String(60_000) },
      ],
    },
  ];
}

/**
 * Creates the missing topics; checks that existing commands and events topics
 * have the configured partition count, since ownership depends on it.
 */
export async function ensureWriteSideTopics(kafka: Kafka, config: Pick<Config, 'topics'>): Promise<void> {
  await withAdmin(kafka, (admin) => createAndCheck(admin, config));
}

/** Deletes the write side's topics: for tests that made their own, under a unique prefix. */
export async function deleteWriteSideTopics(kafka: Kafka, config: Pick<Config, 'topics'>): Promise<void> {
  const topics = writeSideTopics(config);
  await withAdmin(kafka, (admin) =>
    admin.deleteTopics({ topics: [topics.commands, topics.events, topics.snapshots, topics.results, topics.status] }),
  );
}

async function createAndCheck(admin: Admin, config: Pick<Config, 'topics'>): Promise<void> {
  await createMissingTopics(admin, topicConfigs(config));
  const topics = writeSideTopics(config);
  const metadata = await admin.fetchTopicMetadata({ topics: [topics.commands, topics.events, topics.snapshots] });
  for (const topic of metadata.topics) {
    if (topic.partitions.length !== config.topics.partitions) {
      throw new ConfigError(
        'STRATA_PARTITIONS',
        String(config.topics.partitions),
        `topic ${topic.name} exists with ${topic.partitions.length} partitions; the commands, events and snapshots topics must all have STRATA_PARTITIONS`,
      );
    }
  }
}
