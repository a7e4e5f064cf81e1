/**
 * A projector process: feeds the live version of each of its projections from the
 * events topic, `read_committed`, so aborted writes of the command processors are never
 * projected. One feed per store reads for all of them (projection-feed.ts); a replay's
 * build reads in its version's own consumer group (startProjectionBuild). What a
 * projection does with a batch is projection-runner.ts.
 */
import type { Config } from '../shared/config.js';
import type { EventCatalog } from '../shared/event-schemas.js';
import { gatheringMember, groupMember } from '../shared/kafka/group-settings.js';
import type { LogClient } from '../shared/kafka/log-client.js';
import type { Logger } from '../shared/logger.js';
import { retry } from '../shared/retry.js';
import { ensureWriteSideTopics, writeSideTopics } from '../shared/topics.js';
import { followDeadLetters } from './dead-letter-log.js';
import { ensureDeadLetterTopic } from './dead-letters.js';
import type { Projection } from './projection.js';
import { createProjectionCatalogue } from './projection-catalogue.js';
import { startFeed } from './projection-feed.js';
import { projectionGroup } from './projection-progress.js';
import { openProjection, sharedDecoder, storeBackoff, type RunContext } from './projection-runner.js';
import { offsetCommitIntervalMs, throttledOffsetCommits } from '../shared/kafka/offset-commits.js';
import { projectionId } from '../shared/projection-id.js';

export interface Projector {
  stop(): Promise<void>;
}

/** A replay's build: one projection version, in a consumer group of its own (as large a batch as Kafka gives). */
async function runBuild(projection: Projection, context: RunContext): Promise<() => Promise<void>> {
  const { log, config } = context;
  const topic = writeSideTopics(config).events;
  const runner = await openProjection(projection, context);
  const consumer = log.groupConsumer({
    ...(projection.store === 'elasticsearch' ? gatheringMember : groupMember)(config, projectionGroup(config, projection)),
    topics: [{ topic, fromBeginning: true }],
    partitionsConcurrently: config.topics.partitions,
    // As large as a feed's (projection-feed.ts says why not larger).
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    onAssigned: (assignment) => {
      commits.forget();
      runner.assign(assignment.get(topic) ?? []);
    },
    // Fetches of transaction markers only: the offsets move past them here, or the marker
    // after the last event would read as lag forever. Everything before them was stored.
    onSkipped: (skippedTopic, partition, next) => {
      if (skippedTopic === topic) commits.note(partition, next);
    },
    onBatch: async (batch, batchContext) => {
      await runner.project(batch, batchContext, sharedDecoder(context.events));
      commits.note(batch.partition, batch.next);
      batchContext.advance(batch.next);
      await batchContext.heartbeat();
    },
  });
  const commits = throttledOffsetCommits(consumer, topic, { intervalMs: offsetCommitIntervalMs, logger: context.logger });
  await consumer.start();
  context.logger.info({ projection: projectionId(projection), group: projectionGroup(config, projection) }, 'projection build running');
  return async () => {
    // disconnect() lets the batch in hand finish (or give up, if its store is down). Offsets
    // noted after the flush stay uncommitted: the next owner skips those events by version.
    await commits.flush();
    await consumer.stop();
    commits.stop();
    await runner.close();
  };
}

/** Everything a projector process shares between its projections. */
async function openRunContext(log: LogClient, config: Config, logger: Logger, events: EventCatalog) {
  await ensureWriteSideTopics(log, config);
  await ensureDeadLetterTopic(log, config);
  const producer = await log.producer();
  // One admin for the process: the lag each projection reports at every scrape.
  const admin = await log.admin();
  const letters = await followDeadLetters({ log, admin, config, logger });
  let stopping = false;
  const context: RunContext = { log, events, admin, config, logger, producer, letters, stopping: () => stopping };
  const close = async () => {
    stopping = true;
    await letters.close();
    await producer.stop();
    await admin.stop();
  };
  return { context, close };
}

/**
 * Feeds one stored version of a projection (`projection.version` names the consumer
 * group, index or namespace) until stopped, live or not: what a replay runs.
 */
export async function startProjectionBuild(options: { log: LogClient; config: Config; logger: Logger; projection: Projection; events: EventCatalog }): Promise<Projector> {
  const { context, close } = await openRunContext(options.log, options.config, options.logger, options.events);
  try {
    const stop = await runBuild(options.projection, context);
    return {
      async stop() {
        await stop();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** How often a projector checks which version of each projection is live. */
const followIntervalMs = 1_000;

type Catalogue = ReturnType<typeof createProjectionCatalogue>;

/**
 * The stored version of each projection to feed, with the definition that built it;
 * nothing live yet: the newest definition. A live version built by a definition this
 * build does not have is left out (and said once).
 */
async function liveBuilds(projections: readonly Projection[], catalogue: Catalogue, logger: Logger, said: Set<string>): Promise<Projection[]> {
  const builds: Projection[] = [];
  for (const name of new Set(projections.map((projection) => projection.name))) {
    const definitions = projections.filter((projection) => projection.name === name);
    const newest = definitions.reduce((a, b) => (b.version > a.version ? b : a));
    const live = await catalogue.liveVersion(newest);
    if (live === undefined) {
      builds.push(newest);
      continue;
    }
    const built = await catalogue.definitionOf(name, live);
    const definition = definitions.find((projection) => projection.version === built);
    if (definition !== undefined) builds.push({ ...definition, version: live });
    else if (!said.has(`${name}.v${String(live)}`)) {
      said.add(`${name}.v${String(live)}`);
      logger.error(
        { projection: name, live, definition: built, defined: definitions.map((projection) => projection.version) },
        `the live version of ${name} was built by definition v${String(built)}, which this build does not define; run \`strata projections replay ${name}\` to build and swap in v${String(newest.version)}`,
      );
    }
  }
  return builds;
}

/** One feed per store, started again whenever the versions it should feed change. */
function storeFeeds(context: RunContext, catalogue: Catalogue) {
  const feeds = new Map<Projection['store'], { versions: string; stop: () => Promise<void> }>();
  return {
    async feed(builds: readonly Projection[]): Promise<void> {
      for (const store of ['redis', 'elasticsearch'] as const) {
        const wanted = builds.filter((projection) => projection.store === store);
        const versions = wanted.map(projectionId).sort().join();
        const current = feeds.get(store);
        if (current?.versions === versions) continue;
        if (current !== undefined) {
          context.logger.info({ from: current.versions, to: versions }, 'the live versions changed; following them');
          feeds.delete(store);
          await current.stop();
        }
        if (wanted.length === 0) continue;
        // Unrecorded means built by the definition of the same number (recordBuild never overwrites).
        for (const { name, version } of wanted) await catalogue.recordBuild(name, version, version);
        feeds.set(store, { versions, stop: await startFeed(wanted, context) });
      }
    },
    stop: () => Promise.all([...feeds.values()].map(({ stop }) => stop())),
  };
}

/**
 * A projector process: feeds the live version of each projection it is given,
 * and follows the live pointer when a replay swaps it. `projections` may hold
 * several definitions of one projection (keep the old one until its replacement is
 * live): the live version is fed with the definition that built it.
 */
export async function startProjector(options: {
  log: LogClient;
  config: Config;
  logger: Logger;
  projections: readonly Projection[];
  /** The app's event types (`app.domain.events`): projections see events upcast to their current versions. */
  events: EventCatalog;
}): Promise<Projector> {
  const { log, config, logger, projections } = options;
  const { context, close } = await openRunContext(log, config, logger, options.events);
  const catalogue = createProjectionCatalogue(config);
  const feeds = storeFeeds(context, catalogue);
  const said = new Set<string>();
  // Read before the pointers, so that a swap made while they are read is seen at the next check.
  let generation = await catalogue.generation().catch(() => undefined);
  // At start, wait for the stores as long as it takes (as a projection waits to prepare its read model).
  await retry(async () => feeds.feed(await liveBuilds(projections, catalogue, logger, said)), {
    ...storeBackoff(config),
    onFailure: (error, attempt) => {
      logger.warn({ err: error, attempt }, 'cannot read which versions are live; retrying');
    },
  });

  let following = Promise.resolve();
  const timer = setInterval(() => {
    following = following.then(async () => {
      // The pointers are looked at again only when a swap or a drop changed the generation
      // (or the last look failed).
      const now = await catalogue.generation().catch(() => undefined);
      if (now !== undefined && now === generation) return;
      try {
        await feeds.feed(await liveBuilds(projections, catalogue, logger, said));
        generation = now;
      } catch (error) {
        logger.warn({ err: error }, 'could not check the live versions');
        generation = undefined;
      }
    });
  }, followIntervalMs);

  return {
    async stop() {
      clearInterval(timer);
      await following;
      await feeds.stop();
      await catalogue.close();
      await close();
    },
  };
}
