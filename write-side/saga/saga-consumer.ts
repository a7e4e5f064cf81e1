/**
 * A saga's input from the log: a consumer group of its own on the events topic
 * (read_committed), started where the platform started, feeding each event of
 * interest to its instance (saga-input.ts) and committing offsets, throttled, only
 * after the events before them were handled.
 */
import { scoped } from '../../shared/auth/tenants.js';
import type { Config } from '../../shared/config.js';
import type { EventCatalog } from '../../shared/event-schemas.js';
import { decodeEvent, eventHeaders, headerValue, type EventEnvelope } from '../../shared/event-envelope.js';
import { gatheringMember } from '../../shared/kafka/group-settings.js';
import type { BatchContext, ConsumedBatch, GroupConsumer, LogClient, LogRecord } from '../../shared/kafka/log-client.js';
import { offsetCommitIntervalMs, throttledOffsetCommits, type OffsetCommits } from '../../shared/kafka/offset-commits.js';
import type { Logger } from '../../shared/logger.js';
import { retry } from '../../shared/retry.js';
import { SpanKind, contextOf, isSampled, startSpan, traceparentOf, validTraceparent } from '../../shared/trace-context.js';
import { writeSideTopics } from '../../shared/topics.js';
import type { Saga } from './process-manager.js';
import { handleInput, type SagaContext } from './saga-input.js';

export const sagaGroup = (config: Pick<Config, 'topics'>, saga: Pick<Saga<unknown>, 'name'>) => `${config.topics.prefix}.saga.${saga.name}`;

/** What consuming a saga's events takes. */
export interface ConsumerContext<State> extends SagaContext<State> {
  /** The app's event types: the saga sees events upcast to their current versions. */
  events: EventCatalog;
  /** True once the runtime is stopping: a failed input is not retried any more. */
  stopping: () => boolean;
}

export interface SagaSubscription {
  consumer: GroupConsumer;
  commits: OffsetCommits;
}

/**
 * Commits where the group starts, for the partitions it never committed: the first
 * event written at or after `since`. Durable, so that a process killed before its
 * first commit does not start, restarted, at a later point and miss the events between.
 */
export async function pinStart(log: LogClient, groupId: string, topic: string, since: Date): Promise<void> {
  await log.withAdmin(async (admin) => {
    const committed = await admin.committedOffsets(groupId, topic);
    const unset = (await admin.offsetsAt(topic, since)).filter(({ partition }) => !committed.has(partition));
    if (unset.length === 0) return;
    try {
      await admin.setCommittedOffsets(groupId, topic, unset);
    } catch {
      // The group has members: one of them started it already.
    }
  });
}

/** The saga's group member on the events topic, not started yet, and its offset commits. */
export function subscribeSaga<State>(log: LogClient, config: Config, context: ConsumerContext<State>): SagaSubscription {
  const topic = writeSideTopics(config).events;
  const consumer = log.groupConsumer({
    ...gatheringMember(config, sagaGroup(config, context.saga)),
    topics: [{ topic, fromBeginning: false }],
    partitionsConcurrently: config.topics.partitions,
    onBatch: (batch, batchContext) => consumeBatch(context, commits, batch, batchContext),
    onAssigned: () => {
      commits.forget();
    },
    // Markers only: the offset moves past them, or a quiet partition would show lag.
    onSkipped: (_topic, partition, next) => {
      commits.note(partition, next);
    },
  });
  const commits = throttledOffsetCommits(consumer, topic, { intervalMs: offsetCommitIntervalMs, logger: context.logger });
  return { consumer, commits };
}

async function consumeBatch<State>(context: ConsumerContext<State>, commits: OffsetCommits, batch: ConsumedBatch, batchContext: BatchContext): Promise<void> {
  const current = () => batchContext.isCurrent();
  for (const record of batch.records) {
    if (!current()) return;
    const event = readEvent(context.events, record);
    if (event === undefined) continue;
    await handleEvent(context, event, record, current);
    batchContext.advance(record.offset + 1n);
    await batchContext.heartbeat();
  }
  commits.note(batch.partition, batch.next);
  batchContext.advance(batch.next);
}

/** The record's event, upcast; undefined for a record that is not an event, or one this app cannot read. */
function readEvent(events: EventCatalog, record: LogRecord): EventEnvelope | undefined {
  try {
    return events.upcast(decodeEvent(record));
  } catch {
    return undefined; // the projections' dead letters report such records
  }
}

/** Feeds the event to its instance, if the saga has one for it, until handled (or the batch is no longer ours). */
async function handleEvent<State>(context: ConsumerContext<State>, event: EventEnvelope, record: LogRecord, current: () => boolean): Promise<void> {
  const named = context.saga.instanceOf(event);
  if (named === undefined) return;
  const instance = scoped(event.tenant, named);
  const parent = validTraceparent(headerValue(record.headers, eventHeaders.traceparent));
  const input = { kind: 'event' as const, event };
  await inSagaSpan(context.saga.name, event, instance, parent, (traceparent) =>
    untilDone(() => handleInput(context, instance, input, traceparent), current, context),
  );
}

/**
 * Runs `work` in the trace of the event that caused it, through a span of the saga's own
 * when that trace is recorded; `work` gets the traceparent the saga's commands join.
 */
async function inSagaSpan(sagaName: string, event: EventEnvelope, instance: string, parent: string | undefined, work: (traceparent: string | undefined) => Promise<void>): Promise<void> {
  const span = isSampled(parent)
    ? startSpan(`saga ${sagaName} ${event.type}`, { kind: SpanKind.CONSUMER, parent: contextOf(parent), attributes: { 'strata.saga.instance': instance, 'strata.event.id': event.eventId } })
    : undefined;
  try {
    await work(span === undefined ? parent : traceparentOf(span));
  } finally {
    span?.end();
  }
}

/**
 * Runs `work` until it succeeds, with backoff (0.2 s doubling to 5 s): a gateway or Redis
 * that is down is waited for, while the batch is current and the runtime not stopping.
 */
async function untilDone(work: () => Promise<void>, still: () => boolean, { stopping, logger }: { stopping: () => boolean; logger: Logger }): Promise<void> {
  await retry(work, {
    firstDelayMs: 200,
    maxDelayMs: 5_000,
    retryable: () => !stopping() && still(),
    onFailure: (error, attempt, delayMs) => {
      logger.warn({ err: error, attempt, delayMs }, 'saga input not handled yet; retrying');
    },
  });
}
