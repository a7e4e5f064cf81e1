/**
 * One projection version at work in a projector process, whatever reads the log for
 * it: a fetch's records of one partition are decoded, planned (batch-plan.ts),
 * dead-lettered where they cannot be applied, and stored with the partition's
 * checkpoint. Dead letters are sent before the store moves on, so an event that failed
 * is never lost between the two. An aggregate with an event in the dead letters is held
 * (its later events join it there, in order); the process follows the dead-letter topic
 * to know which are, and reads it up to date whenever it is given partitions.
 * A store that is down is retried with backoff, forever, while the batch is still this
 * process's; nothing is skipped.
 *
 * What reads the log is the caller's: a projector's feed for its live projections
 * (projection-feed.ts), or a consumer of the projection's own group for a replay's
 * build (projector.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Span } from '@opentelemetry/api';
import type { Config } from '../shared/config.js';
import { decodeEvent, eventHeaders, headerValue, type EventEnvelope } from '../shared/event-envelope.js';
import type { EventCatalog } from '../shared/event-schemas.js';
import type { BatchContext, ConsumedBatch, LogAdmin, LogClient, LogProducer, LogRecord } from '../shared/kafka/log-client.js';
import type { Logger } from '../shared/logger.js';
import { batchSizeBuckets, latencyBuckets } from '../shared/metrics.js';
import { retry } from '../shared/retry.js';
import { SpanKind, contextOf, failSpan, isSampled, linkTo, startSpan, validTraceparent, withSpan } from '../shared/trace-context.js';
import { writeSideTopics } from '../shared/topics.js';
import { projectionId } from '../shared/projection-id.js';
import { createElasticsearchSink } from '../stores/elasticsearch/elasticsearch-sink.js';
import type { ProjectionSink } from '../stores/projection-sink.js';
import { createRedisSink } from '../stores/redis/redis-sink.js';
import { documentIds, planBatch } from './batch-plan.js';
import type { DeadLetterView } from './dead-letter-log.js';
import { deadLetterOf, deadLetterTopic, encodeDeadLetter, type FailedRecord } from './dead-letters.js';
import { handles, type Projection } from './projection.js';
import { projectionProgress } from './projection-progress.js';

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

/** What a projector process shares between its projections. */
export interface RunContext {
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

/** Decodes a record into its event at its current version; throws for one that cannot be read. */
export type RecordDecoder = (record: LogRecord) => EventEnvelope;

/** Decodes each record once, however many projections read it (the records of one fetch). */
export function sharedDecoder(catalog: EventCatalog): RecordDecoder {
  const decoded = new WeakMap<LogRecord, EventEnvelope | { error: unknown }>();
  return (record) => {
    let result = decoded.get(record);
    if (result === undefined) {
      try {
        result = catalog.upcast(decodeEvent(record));
      } catch (error) {
        result = { error };
      }
      decoded.set(record, result);
    }
    if ('error' in result) throw result.error;
    return result;
  };
}

export interface ProjectionRunner {
  readonly projection: Projection;
  /** The partitions this process holds now, after a rebalance: the lag metric reports them. */
  assign(partitions: readonly number[]): void;
  /** One fetch's records of a partition, stored with the checkpoint `batch.next`; resolves once they are. */
  project(batch: ConsumedBatch, context: Pick<BatchContext, 'isCurrent' | 'heartbeat'>, decode: RecordDecoder): Promise<void>;
  close(): Promise<void>;
}

/** How a projector waits for a store (or the broker) that is down: 0.2 s, doubling, at most `STRATA_PROJECTOR_RETRY_MAX_MS`. */
export const storeBackoff = (config: Pick<Config, 'projections'>) => ({ firstDelayMs: 200, maxDelayMs: config.projections.retryMaxMs });

/**
 * Runs `work` until it succeeds, waiting longer after each failure, while the batch is
 * still ours; the group hears from us after each wait.
 */
async function untilDone(
  work: () => Promise<void>,
  context: { logger: Logger; backoff: ReturnType<typeof storeBackoff>; partition: number; batch: Pick<BatchContext, 'isCurrent' | 'heartbeat'>; stopping: () => boolean },
): Promise<void> {
  const { batch, logger } = context;
  await retry(work, {
    ...context.backoff,
    retryable: () => !context.stopping() && batch.isCurrent(),
    onFailure: (error, attempt, delayMs) => {
      logger.warn({ err: error, attempt, delayMs, partition: context.partition }, 'store unavailable; retrying the batch');
    },
    afterWait: () => batch.heartbeat(),
  });
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
function decodeBatch(projection: Projection, catalog: EventCatalog, batch: ConsumedBatch, topic: string, decode: RecordDecoder) {
  const { partition } = batch;
  const events: EventEnvelope[] = [];
  const recordOf = new Map<EventEnvelope, LogRecord>();
  const undecodable: FailedRecord[] = [];
  for (const record of batch.records) {
    const type = headerValue(record.headers, eventHeaders.type);
    const aggregateType = headerValue(record.headers, eventHeaders.aggregateType);
    if (type !== undefined && aggregateType !== undefined && !handles(projection, { type: catalog.currentType(aggregateType, type), aggregateType })) continue;
    try {
      const event = decode(record);
      events.push(event);
      recordOf.set(event, record);
    } catch (error) {
      undecodable.push({ topic, partition, record, event: null, error: error as Error });
    }
  }
  return { events, recordOf, undecodable };
}

/**
 * Each event of a sampled trace is projected in a span of its own, child of its record's
 * trace context. Events of unsampled traces get none: their spans would record nothing,
 * and making one (and its write span) per event cost a catch-up a sixth of its speed.
 */
function eventSpans(projection: Projection, events: readonly EventEnvelope[], recordOf: ReadonlyMap<EventEnvelope, LogRecord>, partition: number) {
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
  return spans;
}

/** Prepares the store for the projection and tells the sink where each partition's checkpoint stands. */
async function prepareReadModel(projection: Projection, sink: ProjectionSink, context: RunContext): Promise<void> {
  await sink.prepare();
  const progress = await projectionProgress(context.admin, context.config, projection);
  await sink.resume(new Map(progress.filter(({ committed }) => committed > 0n).map(({ partition, committed }) => [partition, committed])));
}

/** Prepares the projection's read model (waiting for its store as long as it takes) and returns its runner. */
export async function openProjection(projection: Projection, context: RunContext): Promise<ProjectionRunner> {
  const { config } = context;
  const logger = context.logger.child({ projection: projectionId(projection) });
  const sink = sinkFor(config, projection);
  await retry(() => prepareReadModel(projection, sink, context), {
    ...storeBackoff(config),
    retryable: () => !context.stopping(),
    onFailure: (error, attempt) => {
      logger.warn({ err: error, attempt }, `${projection.store} is not reachable; waiting to prepare the read model`);
    },
  });
  return runnerOf(projection, sink, { ...context, logger });
}

/** Reports the projection's lag on the partitions this process holds, at every scrape. */
function lagReport(projection: Projection, context: RunContext) {
  const id = projectionId(projection);
  let assigned: readonly number[] = [];
  const read = async () => {
    const progress = await projectionProgress(context.admin, context.config, projection);
    for (const { partition, lag } of progress) {
      if (assigned.includes(partition)) lagGauge.set({ projection: id, partition: String(partition) }, Number(lag));
    }
  };
  lagReaders.add(read);
  return {
    assign(partitions: readonly number[]) {
      for (const partition of assigned) lagGauge.remove({ projection: id, partition: String(partition) });
      assigned = partitions;
    },
    stop() {
      lagReaders.delete(read);
    },
  };
}

/** Sends failed records to the dead-letter topic, each once per batch (`sent`), and notes them as held. */
function deadLetterSender(projection: Projection, context: RunContext) {
  const id = projectionId(projection);
  return async (records: readonly FailedRecord[], sent: Set<string>) => {
    const letters = records
      .map((record) => deadLetterOf(projection, record, new Date()))
      // A dropped letter's event redelivered (its batch was not committed) stays dropped.
      .filter((letter) => !sent.has(letter.id) && !context.letters.dropped(letter.id));
    if (letters.length === 0) return;
    await context.producer.send(deadLetterTopic(context.config), letters.map((letter) => encodeDeadLetter(letter)));
    context.letters.noteSent(letters);
    deadLetters.inc({ projection: id }, letters.length);
    for (const letter of letters) {
      sent.add(letter.id);
      context.logger.error({ deadLetter: letter.id, error: letter.error.message }, 'event dead-lettered');
    }
  };
}

function runnerOf(projection: Projection, sink: ProjectionSink, context: RunContext): ProjectionRunner {
  const { config, logger } = context;
  const id = projectionId(projection);
  const topic = writeSideTopics(config).events;
  const lag = lagReport(projection, context);
  // Partitions just taken over may hold events a previous owner dead-lettered: read the letters up to date first.
  let lettersRead: Promise<void> | undefined;
  const readLetters = () =>
    (lettersRead ??= context.letters.catchUp().catch((error: unknown) => {
      lettersRead = undefined;
      throw error;
    }));
  // Zero, not absent, until something happens: a rate or an alert needs the series.
  deadLetters.inc({ projection: id }, 0);
  projectedEvents.inc({ projection: id }, 0);

  const deadLetter = deadLetterSender(projection, context);

  return {
    projection,
    assign(partitions) {
      lettersRead = undefined;
      lag.assign(partitions);
    },
    async project(batch, batchContext, decode) {
      const { partition } = batch;
      const { events, recordOf, undecodable } = decodeBatch(projection, context.events, batch, topic, decode);
      const failedEvent = (event: EventEnvelope, error: Error): FailedRecord[] => {
        const record = recordOf.get(event);
        return record === undefined ? [] : [{ topic, partition, record, event, error }];
      };
      // Past the batch's last offset, transaction markers included, so a caught-up projection has no lag.
      const checkpoint = { partition, offset: batch.next };
      const sent = new Set<string>();
      const spans = eventSpans(projection, events, recordOf, partition);
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
        { logger, backoff: storeBackoff(config), partition, batch: batchContext, stopping: context.stopping },
      );
      // The replay test kills a replay between a stored batch and its commit.
      if (config.writeSide.testPauseBeforeCommitMs > 0) await sleep(config.writeSide.testPauseBeforeCommitMs);
      projectedEvents.inc({ projection: id }, events.length + undecodable.length);
      batchEvents.observe({ projection: id }, events.length);
      for (const span of spans.values()) span.end();
    },
    async close() {
      lag.stop();
      await sink.close();
    },
  };
}
