/**
 * One consumer for several projections of one store in a projector process: each
 * fetch is decoded once and handed to every projection, instead of each projection
 * fetching and decoding every event in a consumer group of its own.
 *
 * The feed's own group (`feedGroup`) only shares the partitions out between the
 * processes that run the same projections; it commits nothing, so it is gone from the
 * broker once its members are. Each projection keeps its own progress in its own
 * group's offsets, committed without joining it (GroupOffsetWriter), which is where
 * `strata projections status`, the lag metric and a replay read it. A projection runs
 * from its own position: on each assignment the feed reads every projection's
 * committed offsets, starts each partition at the smallest, and a projection passes
 * over the records before its own position.
 */
import type { Config } from '../shared/config.js';
import { gatheringMember, groupMember } from '../shared/kafka/group-settings.js';
import type { BatchContext, ConsumedBatch, GroupConsumer, LogAdmin } from '../shared/kafka/log-client.js';
import { offsetCommitIntervalMs, throttledOffsetCommits, type OffsetCommits } from '../shared/kafka/offset-commits.js';
import { retry } from '../shared/retry.js';
import { writeSideTopics } from '../shared/topics.js';
import { projectionId } from '../shared/projection-id.js';
import type { Projection } from './projection.js';
import { projectionGroup } from './projection-progress.js';
import { openProjection, sharedDecoder, storeBackoff, type ProjectionRunner, type RunContext } from './projection-runner.js';

/** Separates the projection versions a feed's group name lists. */
const feedSeparator = '+';

/** What every feed's group name begins with. */
const feedPrefix = (config: Pick<Config, 'topics'>) => `${config.topics.prefix}.projector.`;

/** The group of a feed: its projection versions, so processes share partitions only with those that run the same ones. */
const feedGroup = (config: Pick<Config, 'topics'>, projections: readonly Pick<Projection, 'name' | 'version'>[]) =>
  `${feedPrefix(config)}${projections.map(projectionId).sort().join(feedSeparator)}`;

/** Whether `group` is a feed that runs this projection version. */
const feedRuns = (config: Pick<Config, 'topics'>, group: string, projection: Pick<Projection, 'name' | 'version'>) =>
  group.startsWith(feedPrefix(config)) && group.slice(feedPrefix(config).length).split(feedSeparator).includes(projectionId(projection));

/** The consumers that run a projection version: its own group's (a replay's build) and those of every feed that runs it. */
export async function projectionConsumers(admin: LogAdmin, config: Pick<Config, 'topics'>, projection: Pick<Projection, 'name' | 'version'>) {
  const feeds = (await admin.listGroups()).filter((group) => feedRuns(config, group, projection));
  const groups = await Promise.all([projectionGroup(config, projection), ...feeds].map((group) => admin.groupMembers(group)));
  return groups.flat();
}

interface Fed {
  runner: ProjectionRunner;
  /** Per partition, the next offset this projection stores. */
  positions: Map<number, bigint>;
  commits: OffsetCommits;
}

/** Feeds `projections` (all of one store) until the returned function stops it. */
export async function startFeed(projections: readonly Projection[], context: RunContext): Promise<() => Promise<void>> {
  const { log, config, logger } = context;
  const topic = writeSideTopics(config).events;
  const writer = await log.groupOffsetWriter();
  const fed: Fed[] = [];
  try {
    for (const projection of projections) {
      const group = projectionGroup(config, projection);
      const commits = throttledOffsetCommits({ commit: (offsets) => writer.commit(group, offsets) }, topic, { intervalMs: offsetCommitIntervalMs, logger });
      fed.push({ runner: await openProjection(projection, context), positions: new Map(), commits });
    }
  } catch (error) {
    await Promise.all(fed.map(({ runner }) => runner.close()));
    await writer.stop();
    throw error;
  }
  const group = feedGroup(config, projections);
  const placing = placement(fed, context, topic);
  const consumer: GroupConsumer = log.groupConsumer({
    // Searchable only at the index's next refresh anyway: Elasticsearch projections gather their events.
    ...(projections.some(({ store }) => store === 'elasticsearch') ? gatheringMember : groupMember)(config, group),
    topics: [{ topic, fromBeginning: true }],
    partitionsConcurrently: config.topics.partitions,
    // Large batches when catching up: each costs a store round trip and, in Elasticsearch, a
    // wait for the refresh before its checkpoint moves. Not larger: with 16 MB per partition
    // (20,000 events in a fetch) kafkajs heartbeated only after the member's session had expired.
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    onAssigned: (assignment) => { placing.assign(consumer, assignment.get(topic) ?? []); },
    // Fetches of transaction markers only: positions move past them, or the marker after a
    // projection's last event would read as lag forever.
    onSkipped: (skippedTopic, partition, next) => {
      if (skippedTopic === topic && placing.placed(partition)) for (const entry of fed) moveTo(entry, partition, next);
    },
    onBatch: (batch, batchContext) => feedBatch(fed, batch, batchContext, placing, context),
  });
  await consumer.start();
  logger.info({ group, projections: projections.map(projectionId) }, 'projections running');

  return async () => {
    placing.stop();
    // disconnect() lets the batch in hand finish (or give up, if its store is down). Positions
    // noted after the flush stay uncommitted: the next owner skips those events by version.
    await Promise.all(fed.map(({ commits }) => commits.flush()));
    await consumer.stop();
    for (const { commits } of fed) commits.stop();
    await Promise.all(fed.map(({ runner }) => runner.close()));
    await writer.stop();
  };
}

function moveTo(entry: Fed, partition: number, next: bigint): void {
  if ((entry.positions.get(partition) ?? -1n) >= next) return;
  entry.positions.set(partition, next);
  entry.commits.note(partition, next);
}

/** One fetch, handed to each projection from its own position on; the feed moves on once all have stored it. */
async function feedBatch(fed: readonly Fed[], batch: ConsumedBatch, batchContext: BatchContext, placing: Placement, context: RunContext): Promise<void> {
  const { partition } = batch;
  if (!placing.placed(partition)) return;
  const decode = sharedDecoder(context.events);
  const results = await Promise.allSettled(
    fed.map(async (entry) => {
      const from = entry.positions.get(partition) ?? 0n;
      if (from >= batch.next) return;
      const records = from > (batch.records[0]?.offset ?? batch.next) ? batch.records.filter(({ offset }) => offset >= from) : batch.records;
      await entry.runner.project({ ...batch, records }, batchContext, decode);
      moveTo(entry, partition, batch.next);
    }),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  batchContext.advance(batch.next);
  await batchContext.heartbeat();
}

/** Sets each projection's position on the partitions: where it committed, or further where this process stored more itself. */
async function readPositions(fed: readonly Fed[], { admin, config }: RunContext, topic: string, partitions: readonly number[]): Promise<void> {
  for (const entry of fed) {
    const committed = await admin.committedOffsets(projectionGroup(config, entry.runner.projection), topic);
    // What this process stored itself may be ahead of its last commit: noted again, as assign forgot it.
    for (const partition of partitions) {
      const held = entry.positions.get(partition);
      const stored = committed.get(partition) ?? 0n;
      if (held !== undefined && held > stored) entry.commits.note(partition, held);
      else moveTo(entry, partition, stored);
    }
  }
}

interface Placement {
  assign(consumer: GroupConsumer, partitions: readonly number[]): void;
  /** Whether the partition's reading starts from its projections' positions yet. */
  placed(partition: number): boolean;
  stop(): void;
}

/**
 * After each rebalance: the partitions are paused (nothing is fetched from where the
 * feed's group happens to stand), every projection's committed offsets are read, and
 * each partition is sought to the smallest before it is resumed.
 */
function placement(fed: readonly Fed[], context: RunContext, topic: string): Placement {
  const { config, logger } = context;
  const ready = new Set<number>();
  let round = 0;
  let stopped = false;
  const place = async (consumer: GroupConsumer, partitions: readonly number[], mine: number) => {
    // Given up only once superseded (stopped, or a newer assignment): the check below ends this one.
    await retry(() => readPositions(fed, context, topic, partitions), {
      ...storeBackoff(config),
      retryable: () => !stopped && mine === round,
      onFailure: (error, attempt) => {
        logger.warn({ err: error, attempt }, 'cannot read the projections\' positions; retrying');
      },
    }).catch(() => undefined);
    if (stopped || mine !== round) return;
    for (const partition of partitions) {
      const from = fed.reduce((least, entry) => { const position = entry.positions.get(partition) ?? 0n; return position < least ? position : least; }, BigInt(Number.MAX_SAFE_INTEGER));
      consumer.seek(topic, partition, from);
      ready.add(partition);
      consumer.resume(topic, partition);
    }
    logger.info({ partitions }, 'event partitions assigned');
  };
  return {
    assign(consumer, partitions) {
      round++;
      ready.clear();
      for (const entry of fed) {
        entry.commits.forget();
        entry.runner.assign(partitions);
      }
      for (const partition of partitions) consumer.pause(topic, partition);
      void place(consumer, partitions, round);
    },
    placed: (partition) => ready.has(partition),
    stop() {
      stopped = true;
    },
  };
}
