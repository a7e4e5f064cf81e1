/**
 * A projector process: one consumer group per projection and version on the
 * events topic, `read_committed`, so aborted writes of the command processors are
 * never projected.
 *
 * Per batch of a partition: decode, load the documents the events touch, plan
 * (batch-plan.ts), dead-letter what cannot be applied, store the writes with the
 * partition's checkpoint, and only then commit the offsets. Dead letters are sent
 * before the store moves on, so an event that failed is never lost between the two.
 * An aggregate with an event in the dead letters is held (its later events join it
 * there, in order); the process follows the dead-letter topic to know which are, and
 * reads it up to date whenever it is given partitions.
 * A store that is down is retried with backoff, forever, while the consumer keeps
 * its group membership; nothing is skipped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Config } from '../shared/config.js';
import { decodeEvent, eventHeaders, headerValue, type EventEnvelope } from '../shared/event-envelope.js';
import type { EventCatalog } from '../shared/event-schemas.js';
import { gatheringMember, groupMember } from '../shared/kafka/group-settings.js';
import type { BatchContext, ConsumedBatch, LogAdmin, LogClient, LogProducer, LogRecord } from '../shared/kafka/log-client.js';
import type { Logger } from '../shared/logger.js';
import { batchSizeBuckets, latencyBuckets } from '../shared/metrics.js';
import { SpanKind, contextOf, failSpan, isSampled, linkTo, startSpan, validTraceparent, withSpan } from '../shared/trace-context.js';
import type { Span } from '@opentelemetry/api';
import { ensureWriteSideTopics, writeSideTopics } from '../shared/topics.js';
import { documentIds, planBatch } from './batch-plan.js';
import { followDeadLetters, type DeadLetterView } from './dead-letter-log.js';
import { deadLetterOf, deadLetterTopic, encodeDeadLetter, ensureDeadLetterTopic, type FailedRecord } from './dead-letters.js';
import { createElasticsearchSink } from './elasticsearch-sink.js';
import type { ProjectionSink } from './projection-sink.js';
import { handles, projectionId, type Projection } from './projection.js';
import { createProjectionCatalogue } from './projection-catalogue.js';
import { projectionGroup, projectionProgress } from './projection-progress.js';
import { offsetCommitIntervalMs, throttledOffsetCommits } from '../shared/kafka/offset-commits.js';
import { createRedisSink } from './redis-sink.js';

export interface Projector {
  stop(): Promise<void>;
}

export const sinkFor = (config: Config, projection: Projection): ProjectionSink =>
  projection.store === 'redis' ? createRedisSink(config, projection) : createElasticsearchSink(config, projection);

const projectionLabel = ['projection'] as const;
const projectedEvents = new Counter({
  name: 'strata_projection_events_total',
  help: 'Events a projection stored (or dead-lettered), by projection version',
  labelNames: projectionLabel,
});
const deadLetters = new Counter({
  name: 'strata_dead_letters_total',
  help: 'Events sent to the dead-letter topic, by projection version',
  labelNames: projectionLabel,
});
const storeDuration = new Histogram({
  name: 'strata_projection_store_duration_seconds',
  help: "One batch's store call (Redis pipeline or Elasticsearch bulk), by projection version",
  labelNames: projectionLabel,
  buckets: latencyBuckets,
});
const batchEvents = new Histogram({
  name: 'strata_projection_batch_events',
  help: 'Events of interest per batch, by projection version',
  labelNames: projectionLabel,
  buckets: batchSizeBuckets,
});

/** How each running projection measures its lag; read at every scrape. */
const lagReaders = new Set<() => Promise<void>>();
const lagGauge = new Gauge({
  name: 'strata_projection_lag',
  help: 'Offsets between what a projection has stored and the end of the events partition, for the partitions this process holds',
  labelNames: ['projection', 'partition'] as const,
  async collect() {
    // A scrape must not hang on a Kafka that does not answer: stale values beat none.
    await Promise.race([Promise.allSettled([...lagReaders].map((read) => read())), sleep(2_000, undefined, { ref: false })]);
  },
});

/** Conflicting writes in a row before the batch is given up (and redelivered): only a zombie owner causes them. */
const maxConflictRounds = 10;

interface RunContext {
  log: LogClient;
  /** The app's event types: every event is upcast to its current version before a projection sees it. */
  events: EventCatalog;
  admin: LogAdmin;
  config: Config;
  logger: Logger;
  producer: LogProducer;
  letters: DeadLetterView;
  stopping: () => boolean;
}

/** Runs `work` until it succeeds, waiting longer after each failure, while the batch is still ours. */
async function untilDone(
  work: () => Promise<void>,
  context: { logger: Logger; retryMaxMs: number; partition: number; batch: BatchContext; stopping: () => boolean },
): Promise<void> {
  const { batch, logger } = context;
  for (let attempt = 1; ; attempt++) {
    try {
      await work();
      return;
    } catch (error) {
      if (context.stopping() || !batch.isCurrent()) throw error;
      const delayMs = Math.min(context.retryMaxMs, 100 * 2 ** Math.min(attempt, 20));
      logger.warn({ err: error, attempt, delayMs, partition: context.partition }, 'store unavailable; retrying the batch');
      await sleep(delayMs);
      await batch.heartbeat();
    }
  }
}

/**
 * One store call for a batch: a span of its own (the Redis and Elasticsearch client
 * spans are its children), linked to every event's span, and under each event's span
 * a write span over the same call, so each event's trace shows its read-model write.
 */
async function tracedStore<T>(projection: Projection, eventSpans: readonly Span[], store: () => Promise<T>): Promise<T> {
  const system = projection.store;
  const started = Date.now();
  const batchSpan = startSpan(`store ${projectionId(projection)} batch`, {
    kind: SpanKind.CLIENT,
    parent: contextOf(undefined),
    links: eventSpans.map(linkTo),
    attributes: { 'db.system.name': system, 'strata.batch.events': eventSpans.length },
  });
  const writeSpans = eventSpans.map((span) =>
    startSpan(system === 'redis' ? 'redis write' : 'elasticsearch bulk', {
      kind: SpanKind.CLIENT,
      parent: span,
      startTime: started,
      links: [linkTo(batchSpan)],
      attributes: { 'db.system.name': system },
    }),
  );
  try {
    return await withSpan(batchSpan, store);
  } catch (error) {
    for (const span of [batchSpan, ...writeSpans]) failSpan(span, error);
    throw error;
  } finally {
    const ended = Date.now();
    for (const span of writeSpans) span.end(ended);
    batchSpan.end(ended);
  }
}

/**
 * The batch's events this projection handles, decoded and upcast to their current
 * versions. The routing headers let events of no interest pass without parsing their
 * value (a retired type counts as the type it became); a record that does not decode,
 * or that no definition of the app can read, is returned for the dead letters.
 */
function decodeBatch(projection: Projection, catalog: EventCatalog, topic: string, partition: number, records: readonly LogRecord[]) {
  const events: EventEnvelope[] = [];
  const recordOf = new Map<EventEnvelope, LogRecord>();
  const undecodable: FailedRecord[] = [];
  for (const record of records) {
    const type = headerValue(record.headers, eventHeaders.type);
    const aggregateType = headerValue(record.headers, eventHeaders.aggregateType);
    if (type !== undefined && aggregateType !== undefined && !handles(projection, { type: catalog.currentType(aggregateType, type), aggregateType })) continue;
    try {
      const event = catalog.upcast(decodeEvent(record));
      events.push(event);
      recordOf.set(event, record);
    } catch (error) {
      undecodable.push({ topic, partition, record, event: null, error: error as Error });
    }
  }
  return { events, recordOf, undecodable };
}

async function runProjection(projection: Projection, context: RunContext): Promise<() => Promise<void>> {
  const { log, config, producer } = context;
  const id = projectionId(projection);
  const logger = context.logger.child({ projection: id });
  const topic = writeSideTopics(config).events;
  const sink = sinkFor(config, projection);
  for (let attempt = 1; ; attempt++) {
    try {
      await sink.prepare();
      const progress = await projectionProgress(context.admin, config, projection);
      await sink.resume(new Map(progress.filter(({ committed }) => committed > 0n).map(({ partition, committed }) => [partition, committed])));
      break;
    } catch (error) {
      if (context.stopping()) throw error;
      logger.warn({ err: error, attempt }, `${projection.store} is not reachable; waiting to prepare the read model`);
      await sleep(Math.min(config.projections.retryMaxMs, 200 * attempt));
    }
  }

  const consumer = log.groupConsumer({
    // Searchable only at the index's next refresh anyway: an Elasticsearch projection gathers its events.
    ...(projection.store === 'elasticsearch' ? gatheringMember : groupMember)(config, projectionGroup(config, projection)),
    topics: [{ topic, fromBeginning: true }],
    partitionsConcurrently: config.topics.partitions,
    // Large batches when catching up: each costs a store round trip, an offset commit and,
    // in Elasticsearch, a wait for the refresh before its checkpoint moves. Not larger: with
    // 16 MB per partition (20,000 events in a fetch) kafkajs sent the batch's offset commit
    // only after the member's session had expired, and the projector stopped for good.
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    onAssigned: (assignment) => {
      lettersRead = undefined;
      commits.forget();
      for (const partition of assigned) lagGauge.remove({ projection: id, partition: String(partition) });
      assigned = assignment.get(topic) ?? [];
      logger.info({ partitions: assigned }, 'event partitions assigned');
    },
    // Fetches of transaction markers only: the offsets move past them here, or the marker
    // after a projection's last event would read as lag forever. Everything before them
    // was stored: partitions are processed in order.
    onSkipped: (skippedTopic, partition, next) => {
      if (skippedTopic === topic) commits.note(partition, next);
    },
    onBatch: (batch, batchContext) => projectBatch(batch, batchContext),
  });

  const deadLetter = async (records: readonly FailedRecord[], sent: Set<string>) => {
    const letters = records
      .map((record) => deadLetterOf(projection, record, new Date()))
      // A dropped letter's event redelivered (its batch was not committed) stays dropped.
      .filter((letter) => !sent.has(letter.id) && !context.letters.dropped(letter.id));
    if (letters.length === 0) return;
    await producer.send(deadLetterTopic(config), letters.map((letter) => encodeDeadLetter(letter)));
    context.letters.noteSent(letters);
    deadLetters.inc({ projection: id }, letters.length);
    for (const letter of letters) {
      sent.add(letter.id);
      logger.error({ deadLetter: letter.id, error: letter.error.message }, 'event dead-lettered');
    }
  };

  const commits = throttledOffsetCommits(consumer, topic, { intervalMs: offsetCommitIntervalMs, logger });
  let assigned: readonly number[] = [];
  // Partitions just taken over may hold events a previous owner dead-lettered: read the letters up to date first.
  let lettersRead: Promise<void> | undefined;
  const readLetters = () =>
    (lettersRead ??= context.letters.catchUp().catch((error: unknown) => {
      lettersRead = undefined;
      throw error;
    }));
  const readLag = async () => {
    const progress = await projectionProgress(context.admin, config, projection);
    for (const { partition, lag } of progress) {
      if (assigned.includes(partition)) lagGauge.set({ projection: id, partition: String(partition) }, Number(lag));
    }
  };
  lagReaders.add(readLag);
  // Zero, not absent, until something happens: a rate or an alert needs the series.
  deadLetters.inc({ projection: id }, 0);
  projectedEvents.inc({ projection: id }, 0);

  /** One fetch of a partition: decoded, planned, stored, and only then counted as read. */
  async function projectBatch(batch: ConsumedBatch, batchContext: BatchContext): Promise<void> {
    const { partition } = batch;
    const { events, recordOf, undecodable } = decodeBatch(projection, context.events, topic, partition, batch.records);
    const failedEvent = (event: EventEnvelope, error: Error): FailedRecord[] => {
      const record = recordOf.get(event);
      return record === undefined ? [] : [{ topic, partition, record, event, error }];
    };
    // Past the batch's last offset, transaction markers included, so a caught-up projection has no lag.
    const checkpoint = { partition, offset: batch.next };
    const sent = new Set<string>();
    // Each event of a sampled trace is projected in a span of its own, child of its record's
    // trace context. Events of unsampled traces get none: their spans would record nothing,
    // and making one (and its write span) per event cost a catch-up a sixth of its speed.
    const spans = new Map<EventEnvelope, Span>();
    for (const event of events) {
      const record = recordOf.get(event);
      const traceparent = validTraceparent(record === undefined ? undefined : headerValue(record.headers, eventHeaders.traceparent));
      if (!isSampled(traceparent)) continue;
      spans.set(
        event,
        startSpan(`project ${projectionId(projection)} ${event.type}`, {
          kind: SpanKind.CONSUMER,
          parent: contextOf(traceparent),
          attributes: { 'strata.event.id': event.eventId, 'strata.aggregate.id': event.aggregateId, 'messaging.kafka.partition': partition, 'messaging.kafka.offset': record?.offset.toString() ?? '' },
        }),
      );
    }
    const failed = (records: readonly FailedRecord[]) => {
      for (const record of records) {
        const span = record.event === null ? undefined : spans.get(record.event);
        if (span !== undefined) failSpan(span, record.error);
      }
      return records;
    };

    await untilDone(
      async () => {
        await readLetters();
        await deadLetter(undecodable, sent);
        for (let round = 1; ; round++) {
          const plan = planBatch(projection, events, await sink.load(documentIds(projection, events)), context.letters.held(id));
          await deadLetter(failed(plan.failed.flatMap(({ event, error }) => failedEvent(event, error))), sent);
          const endStoreTimer = storeDuration.startTimer({ projection: id });
          const result = await tracedStore(projection, [...spans.values()], () => sink.store(plan.writes, checkpoint));
          endStoreTimer();
          const refused = result.rejected.flatMap(({ write, reason }) =>
            write.events.flatMap((event) => failedEvent(event, new Error(`${projection.store} refused the document: ${reason}`))),
          );
          await deadLetter(failed(refused), sent);
          if (result.conflicts.length === 0) return;
          if (round >= maxConflictRounds) throw new Error(`documents keep changing under this projector: ${result.conflicts.slice(0, 3).join(', ')}`);
          logger.warn({ partition, conflicts: result.conflicts.length }, 'documents changed by another writer; planning the batch again');
        }
      },
      { logger, retryMaxMs: config.projections.retryMaxMs, partition, batch: batchContext, stopping: context.stopping },
    );
    // The replay test kills a replay between a stored batch and its commit.
    if (config.writeSide.testPauseBeforeCommitMs > 0) await sleep(config.writeSide.testPauseBeforeCommitMs);
    commits.note(partition, checkpoint.offset);
    projectedEvents.inc({ projection: id }, events.length + undecodable.length);
    batchEvents.observe({ projection: id }, events.length);
    for (const span of spans.values()) span.end();
    batchContext.advance(batch.next);
    await batchContext.heartbeat();
  }
  await consumer.start();
  logger.info({ group: projectionGroup(config, projection), store: projection.store }, 'projection running');

  return async () => {
    lagReaders.delete(readLag);
    // disconnect() lets the batch in hand finish (or give up, if its store is down). Offsets
    // noted after the flush stay uncommitted: the next owner skips those events by version.
    await commits.flush();
    await consumer.stop();
    commits.stop();
    await sink.close();
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
    const stop = await runProjection(options.projection, context);
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
  const running = new Map<string, { version: number; stop: () => Promise<void> }>();
  const missing = new Set<string>();

  /** The stored version to feed, with the definition that builds it; nothing live yet: the newest definition. */
  async function liveBuild(name: string): Promise<Projection | undefined> {
    const definitions = projections.filter((projection) => projection.name === name);
    const newest = definitions.reduce((a, b) => (b.version > a.version ? b : a));
    const live = await catalogue.liveVersion(newest);
    if (live === undefined) return newest;
    const built = await catalogue.definitionOf(name, live);
    const definition = definitions.find((projection) => projection.version === built);
    if (definition === undefined) {
      if (!missing.has(`${name}.v${String(live)}`)) {
        missing.add(`${name}.v${String(live)}`);
        logger.error(
          { projection: name, live, definition: built, defined: definitions.map((projection) => projection.version) },
          `the live version of ${name} was built by definition v${String(built)}, which this build does not define; run \`strata projections replay ${name}\` to build and swap in v${String(newest.version)}`,
        );
      }
      return undefined;
    }
    return { ...definition, version: live };
  }

  async function follow(name: string): Promise<void> {
    const wanted = await liveBuild(name);
    const current = running.get(name);
    if (current?.version === wanted?.version) return;
    if (current !== undefined) {
      logger.info({ projection: name, from: current.version, to: wanted?.version }, 'the live version changed; following it');
      running.delete(name);
      await current.stop();
    }
    if (wanted !== undefined) {
      // Unrecorded means built by the definition of the same number (recordBuild never overwrites).
      await catalogue.recordBuild(name, wanted.version, wanted.version);
      running.set(name, { version: wanted.version, stop: await runProjection(wanted, context) });
    }
  }

  const names = [...new Set(projections.map((projection) => projection.name))];
  // Read before the pointers, so that a swap made while they are read is seen at the next check.
  let generation = await catalogue.generation().catch(() => undefined);
  // At start, wait for the stores as long as it takes (as a projection waits to prepare its read model).
  for (const name of names) {
    for (let attempt = 1; ; attempt++) {
      try {
        await follow(name);
        break;
      } catch (error) {
        logger.warn({ err: error, projection: name, attempt }, 'cannot read which version is live; retrying');
        await sleep(Math.min(config.projections.retryMaxMs, 200 * attempt));
      }
    }
  }

  let following = Promise.resolve();
  const timer = setInterval(() => {
    following = following.then(async () => {
      // Every pointer is looked at again only when a swap or a drop changed the generation
      // (or the last look failed somewhere).
      const now = await catalogue.generation().catch(() => undefined);
      if (now !== undefined && now === generation) return;
      const looked = await Promise.all(
        names.map((name) =>
          follow(name).then(
            () => true,
            (error: unknown) => {
              logger.warn({ err: error, projection: name }, 'could not check the live version');
              return false;
            },
          ),
        ),
      );
      generation = looked.every(Boolean) ? now : undefined;
    });
  }, followIntervalMs);

  return {
    async stop() {
      clearInterval(timer);
      await following;
      await Promise.all([...running.values()].map(({ stop }) => stop()));
      await catalogue.close();
      await close();
    },
  };
}
