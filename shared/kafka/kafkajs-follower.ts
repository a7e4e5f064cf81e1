/**
 * LogClient.follow on kafkajs, in no consumer group at all. A follower only reads:
 * it needs no partition sharing and no committed position, and a group of its own
 * (one per gateway, projector and tail, with a random name) outlived every process
 * that made it, in __consumer_offsets and in every listing of the cluster's groups.
 * So it fetches its partitions itself: one fetch loop per partition leader, as
 * kafkajs's own consumer fetches per broker (a broker answers one request of a
 * connection at a time, so one long-poll per partition would queue), read_committed.
 * kafkajs's consumer cannot do that (it always joins a group), so the loop uses its
 * private cluster and its Batch (which drops aborted records and markers), as
 * kafkajs-read-ends.ts does (kafkajs-cluster.ts). Nothing is left on the broker, even when the process is killed.
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { isolationLevels, partitionsOf, privateCluster, type Cluster, type FetchedPartition } from './kafkajs-cluster.js';
import { toRecord } from './kafkajs-records.js';
import { retryRetriable } from './kafkajs-retriable.js';
import type { Follower, FollowOptions } from './log-client.js';

/** kafkajs's Batch: the records of one partition's fetch a read_committed consumer is given. */
interface FetchedBatch {
  rawMessages: unknown[];
  messages: KafkaMessage[];
  lastOffset(): string;
}
type BatchClass = new (topic: string, fetchedOffset: string, partition: FetchedPartition) => FetchedBatch;

const Batch = createRequire(import.meta.url)('kafkajs/src/consumer/batch.js') as BatchClass;
const maxBytesPerPartition = 1024 * 1024;
const maxBytes = 16 * 1024 * 1024;
/** Pause after a failed fetch (a broker down, a leader moving) before the next try. */
const retryMs = 1000;

/** One partition followed: the next offset to fetch. */
interface Followed {
  topic: string;
  partition: number;
  position: bigint;
  fromBeginning: boolean;
}

/** Where each partition starts: given offsets, else the topic's beginning or (read_committed) end. */
async function startPositions(cluster: Cluster, options: FollowOptions): Promise<Followed[]> {
  // Its metadata request fails retriably for a topic created a moment ago on a cluster of
  // several brokers (a leader not elected yet): a process that followed it at once stopped.
  await retryRetriable(() => cluster.addMultipleTargetTopics(options.topics.map(({ topic }) => topic)), 10, () => cluster.refreshMetadata());
  const followed: Followed[] = [];
  for (const { topic, from } of options.topics) {
    const given = new Map(typeof from === 'string' ? [] : from.map(({ partition, from: offset }) => [partition, offset]));
    const fromBeginning = from !== 'end';
    // A topic just created may not have its leaders known yet: asked again after fresh metadata.
    const [offsets] = await retryRetriable(async () => {
      return cluster.fetchTopicsOffset([{ topic, fromBeginning, partitions: partitionsOf(cluster, topic) }]);
    }, 10, () => cluster.refreshMetadata());
    for (const { partition, offset } of offsets?.partitions ?? []) {
      followed.push({ topic, partition, fromBeginning, position: given.get(partition) ?? BigInt(offset) });
    }
  }
  return followed.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

function leaderOf(cluster: Cluster, { topic, partition }: Followed): number | undefined {
  const leader = cluster.findTopicPartitionMetadata(topic).find(({ partitionId }) => partitionId === partition)?.leader;
  return leader === null || leader === undefined || leader < 0 ? undefined : leader;
}

/** A running follower: its partitions and one fetch loop per leader. */
interface Following {
  cluster: Cluster;
  kafka: Kafka;
  options: FollowOptions;
  followed: readonly Followed[];
  loops: Map<number, Promise<void>>;
  /** Set while a partition without a leader waits for the next look. */
  awaitingLeader: boolean;
  stopped: boolean;
}

/** Starts a loop for every leader of a followed partition that has none (a leader moved, a loop ended). */
function superviseLoops(state: Following): void {
  if (state.stopped) return;
  const leaders = state.followed.map((followed) => leaderOf(state.cluster, followed));
  if (leaders.includes(undefined) && !state.awaitingLeader) {
    // A partition without a leader (an election): asked again shortly.
    state.awaitingLeader = true;
    setTimeout(() => {
      state.cluster.refreshMetadata().catch(() => undefined).finally(() => {
        state.awaitingLeader = false;
        superviseLoops(state);
      });
    }, retryMs).unref();
  }
  for (const nodeId of new Set(leaders)) {
    if (nodeId === undefined || state.loops.has(nodeId)) continue;
    const loop = fetchLoop(state, nodeId)
      .catch((error: unknown) => recover(state, error))
      .finally(() => {
        state.loops.delete(nodeId);
        superviseLoops(state);
      });
    state.loops.set(nodeId, loop);
  }
}

/** After a failed fetch or batch: a position outside the log starts again where the topic's start option says; else wait and refresh. */
async function recover(state: Following, error: unknown): Promise<void> {
  if (state.stopped) return;
  const { cluster } = state;
  const failed = error as { name?: unknown; message?: unknown; topic?: unknown; partition?: unknown };
  state.kafka.logger().warn(`follower ${state.options.name} failed, retrying (${String(failed.message)})`, { topic: failed.topic, partition: failed.partition });
  await sleep(retryMs);
  try {
    if (failed.name === 'KafkaJSOffsetOutOfRange') {
      const lost = state.followed.find(({ topic, partition }) => topic === failed.topic && partition === failed.partition);
      if (lost === undefined) return;
      const [offsets] = await cluster.fetchTopicsOffset([{ topic: lost.topic, fromBeginning: lost.fromBeginning, partitions: [{ partition: lost.partition }] }]);
      const offset = offsets?.partitions.find(({ partition }) => partition === lost.partition)?.offset;
      if (offset !== undefined) lost.position = BigInt(offset);
      return;
    }
    await cluster.refreshMetadata();
  } catch {
    // The next loop meets the same failure and comes back here.
  }
}

/** Fetches the partitions `nodeId` leads until it leads none or the follower stops; a failed fetch ends it. */
async function fetchLoop(state: Following, nodeId: number): Promise<void> {
  const { cluster, options } = state;
  // A function, not the field: stop() sets it while this awaits.
  const running = () => !state.stopped;
  while (running()) {
    await cluster.refreshMetadataIfNecessary();
    superviseLoops(state);
    const led = state.followed.filter((followed) => leaderOf(cluster, followed) === nodeId);
    if (led.length === 0) return;
    const topics = [...new Set(led.map(({ topic }) => topic))].map((topic) => ({
      topic,
      partitions: led.filter((followed) => followed.topic === topic).map(({ partition, position }) => ({ partition, fetchOffset: position.toString(), maxBytes: maxBytesPerPartition })),
    }));
    const broker = await cluster.findBroker({ nodeId });
    const { responses } = await broker.fetch({ replicaId: -1, isolationLevel: isolationLevels.readCommitted, maxWaitTime: options.maxWaitMs, minBytes: 1, maxBytes, topics });
    for (const { topicName, partitions } of responses) {
      for (const fetched of partitions) {
        const followed = led.find(({ topic, partition }) => topic === topicName && partition === fetched.partition);
        if (!running() || followed === undefined) continue;
        const batch = new Batch(topicName, followed.position.toString(), fetched);
        // Nothing fetched: the position stays. Markers or aborted records only: it moves past them.
        if (batch.rawMessages.length === 0) continue;
        const next = BigInt(batch.lastOffset()) + 1n;
        await options.onBatch({ topic: topicName, partition: fetched.partition, records: batch.messages.map(toRecord), next, highWatermark: BigInt(fetched.highWatermark) });
        followed.position = next;
      }
    }
  }
}

/** Resolves once every partition has its start: every record written after that is delivered. */
export async function follow(kafka: Kafka, options: FollowOptions): Promise<Follower> {
  const cluster = privateCluster(kafka, isolationLevels.readCommitted);
  await cluster.connect();
  let followed: Followed[];
  try {
    followed = await startPositions(cluster, options);
  } catch (error) {
    await cluster.disconnect();
    throw error;
  }
  const state: Following = { cluster, kafka, options, followed, loops: new Map(), awaitingLeader: false, stopped: false };
  superviseLoops(state);
  return {
    async stop() {
      state.stopped = true;
      // A fetch in flight ends within maxWaitMs; a batch in hand is let finish.
      while (state.loops.size > 0) await Promise.allSettled([...state.loops.values()]);
      await cluster.disconnect();
    },
  };
}
