/**
 * The event log's topics: the contract between the write side, which produces them,
 * and the projections and tools that read them. Created by the platform at start
 * with the configured partition count and replication. The commands and events topics
 * have the same count: the owner of commands partition p is the only writer of events
 * partition p.
 */
import { settings, type Config } from './config.js';
import { ConfigError } from './errors.js';
import type { LogAdmin, LogClient, TopicReplication, TopicSpec } from './kafka/log-client.js';
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
  await createReplicatedTopics(admin, config, topicSpecs(config));
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

export interface Replication {
  /** Replicas of each partition. */
  factor: number;
  /** The topic's min.insync.replicas: with acks -1, a write needs this many copies. */
  minInSync: number;
}

/** Three copies survive one broker lost while another is down for maintenance. */
const defaultReplicationFactor = 3;

export interface ReplicationInput {
  /** STRATA_REPLICATION_FACTOR, undefined when unset. */
  asked: number | undefined;
  /** The brokers the cluster has now. */
  brokers: number;
  /** The topics about to be created. */
  missing: readonly string[];
  /** The topics that exist, each with the fewest replicas of any of its partitions. */
  existing: readonly { topic: string; replicas: number }[];
}

/**
 * The replication of the topics Strata creates: the asked factor, else 3 or the broker
 * count when smaller; min.insync.replicas one less, so a write survives a replica down.
 * Refuses a factor the cluster cannot place (only when a topic is to be created: a broker
 * down for a while must not stop the platform's start), and an existing topic with fewer
 * replicas than the factor, which would silently hold fewer copies than asked.
 */
export function planReplication({ asked, brokers, missing, existing }: ReplicationInput): Replication {
  const variable = settings.replicationFactor.variable;
  const factor = asked ?? Math.max(1, Math.min(defaultReplicationFactor, brokers));
  const [toCreate] = missing;
  if (toCreate !== undefined && factor > brokers) {
    throw new ConfigError(variable, String(factor), `topic ${toCreate} cannot be created with ${String(factor)} replicas: the cluster has ${String(brokers)} broker(s)`);
  }
  const short = existing.find(({ replicas }) => replicas < factor);
  if (short !== undefined) {
    throw new ConfigError(
      variable,
      asked === undefined ? `(unset: ${String(factor)})` : String(asked),
      `topic ${short.topic} exists with ${String(short.replicas)} replica(s), fewer than ${String(factor)}: add replicas to it (kafka-reassign-partitions) or set ${variable}=${String(short.replicas)} to accept it`,
    );
  }
  return { factor, minInSync: Math.max(1, factor - 1) };
}

/** The fewest replicas of any of the topic's partitions. */
const replicasOf = ({ partitions }: TopicReplication) => Math.min(...partitions.map(({ replicas }) => replicas.length));

/**
 * Creates the missing ones of `specs` replicated as planReplication says, after refusing
 * what it refuses: nothing is created then. Every topic Strata creates goes through here.
 */
export async function createReplicatedTopics(admin: LogAdmin, config: Pick<Config, 'topics'>, specs: readonly TopicSpec[]): Promise<void> {
  const [{ brokers }, found] = await Promise.all([admin.describeCluster(), admin.replication(specs.map(({ topic }) => topic))]);
  const existing = new Set(found.map(({ topic }) => topic));
  const { factor, minInSync } = planReplication({
    asked: config.topics.replicationFactor,
    brokers: brokers.length,
    missing: specs.filter(({ topic }) => !existing.has(topic)).map(({ topic }) => topic),
    existing: found.map((topic) => ({ topic: topic.topic, replicas: replicasOf(topic) })),
  });
  await admin.createMissingTopics(
    specs.map((spec) => ({ ...spec, replicationFactor: factor, config: { ...spec.config, 'min.insync.replicas': String(minInSync) } })),
  );
}

/** Replication of every topic of the configured prefix, by name: what `strata infra status` shows. */
export async function prefixTopicReplication(admin: LogAdmin, config: Pick<Config, 'topics'>): Promise<TopicReplication[]> {
  const ours = (await admin.listTopics()).filter((topic) => topic.startsWith(`${config.topics.prefix}.`));
  return (await admin.replication(ours)).sort((a, b) => a.topic.localeCompare(b.topic));
}
