/**
 * kafkajs's private Cluster, for the three things its public API cannot do: ask
 * ListOffsets read_uncommitted (the high watermark: kafkajs-read-ends.ts), fetch
 * outside a consumer group (kafkajs-follower.ts) and commit a group's offsets without
 * joining it (kafkajs-group-offsets.ts). It is made by the client's own
 * factory, with its brokers, security, retries and logger. kafkajs 2.2.4 is pinned and
 * no longer maintained, so the factory cannot move; the error says where to look if it does.
 */
import type { Kafka } from 'kafkajs';

export interface FetchedPartition {
  partition: number;
  highWatermark: string;
  messages: unknown[];
}

export interface Broker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: FetchedPartition[] }[] }>;
  offsetCommit(request: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    retentionTime: number;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<unknown>;
}

/** The part of the Cluster that Strata uses. */
export interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number | null }[];
  findBroker(node: { nodeId: number }): Promise<Broker>;
  findGroupCoordinator(group: { groupId: string }): Promise<Broker>;
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/** Kafka's isolation levels: what ListOffsets answers as the end, and what a fetch returns. */
export const isolationLevels = { readUncommitted: 0, readCommitted: 1 } as const;

const metadataMaxAgeMs = 300_000;

export function privateCluster(kafka: Kafka, isolationLevel: number): Cluster {
  const key = Object.getOwnPropertySymbols(kafka).find((symbol) => symbol.description === 'private:Kafka:createCluster');
  const create = key === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[key];
  if (typeof create !== 'function') throw new Error('kafkajs has no private:Kafka:createCluster (shared/kafka/kafkajs-cluster.ts)');
  // kafkajs's own clients keep metadata five minutes; this one, given no age, asked for it
  // again before every fetch (a follower's failed fetch refreshes it anyway).
  return (create as (options: object) => Cluster)({ allowAutoTopicCreation: false, isolationLevel, metadataMaxAge: metadataMaxAgeMs });
}

/** The topic's partitions as the cluster's metadata knows them; none yet (a topic just made) is retriable, as kafkajs's own retries treat it. */
export function partitionsOf(cluster: Cluster, topic: string): { partition: number }[] {
  const partitions = cluster.findTopicPartitionMetadata(topic).map(({ partitionId }) => ({ partition: partitionId }));
  if (partitions.length === 0) throw Object.assign(new Error(`no partition of ${topic} is known yet`), { retriable: true });
  return partitions;
}
