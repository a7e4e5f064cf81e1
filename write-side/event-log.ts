/**
 * The event log read for people: one aggregate's history (`strata aggregate show`)
 * and the decoded tail of the whole log (`strata events tail`). Only committed
 * events: what the command processors aborted never shows.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Config } from '../shared/config.js';
import { decodeEvent, eventHeaders, headerValue, type EventEnvelope } from '../shared/event-envelope.js';
import { readPartitionsToEnd } from '../shared/partition-reader.js';
import { withAdmin } from '../shared/topic-admin.js';
import { fold } from './decider/decider.js';
import { aggregateOfType, type Domain } from './decider/domain.js';
import { ensureWriteSideTopics, partitionOfAggregate, writeSideTopics } from '../shared/topics.js';

/** Every committed event whose aggregate id is `aggregateId` (any aggregate type), in version order. */
export async function aggregateHistory(kafka: Kafka, config: Config, aggregateId: string): Promise<EventEnvelope[]> {
  const topic = writeSideTopics(config).events;
  // Before the platform's first start there is no topic: the log is empty, not missing.
  await ensureWriteSideTopics(kafka, config);
  const partitions = (await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic))).length;
  const events: EventEnvelope[] = [];
  await readPartitionsToEnd({
    kafka,
    topic,
    partitions: [{ partition: partitionOfAggregate(aggregateId, partitions), from: 0n }],
    groupPrefix: config.topics.prefix,
    onMessages: (_partition, messages) => {
      for (const message of messages) {
        // The key is the aggregate id: other aggregates' values are not even parsed.
        if (message.key?.toString('utf8') !== aggregateId) continue;
        try {
          events.push(decodeEvent(message));
        } catch {
          // Not an event: the projections' dead letters report such records.
        }
      }
    },
  });
  return events;
}

export interface AggregateView {
  aggregateType: string;
  aggregateId: string;
  version: number;
  latestVersion: number;
  state: unknown;
  events: EventEnvelope[];
}

/**
 * An aggregate's state folded from its events up to `version` (the latest when
 * omitted). Pure: the CLI reads the history, this decides what it shows.
 */
export function aggregateAt(domain: Domain, history: readonly EventEnvelope[], version?: number): AggregateView {
  const first = history[0];
  if (first === undefined) throw new Error('an aggregate with no events has no state');
  const latestVersion = history.reduce((highest, event) => Math.max(highest, event.version), 0);
  const events = history.filter((event) => version === undefined || event.version <= version);
  const aggregate = aggregateOfType(domain, first.aggregateType);
  return {
    aggregateType: first.aggregateType,
    aggregateId: first.aggregateId,
    version: version ?? latestVersion,
    latestVersion,
    state: fold(aggregate, events.map((event) => ({ type: event.type, data: event.data }))),
    events,
  };
}

export interface LoggedEvent {
  partition: number;
  offset: string;
  /** Undefined when the record is not an event; `error` says why. */
  event?: EventEnvelope;
  error?: string;
}

/** Which records a tail shows: decided on headers, before the value is parsed. */
export interface TailFilter {
  aggregateId?: string;
  type?: string;
}

function matches(message: KafkaMessage, filter: TailFilter): boolean {
  const aggregateId = headerValue(message.headers, eventHeaders.aggregateId) ?? message.key?.toString('utf8');
  const type = headerValue(message.headers, eventHeaders.type);
  return (filter.aggregateId === undefined || aggregateId === filter.aggregateId) && (filter.type === undefined || type === filter.type);
}

function logged(partition: number, message: KafkaMessage): LoggedEvent {
  try {
    return { partition, offset: message.offset, event: decodeEvent(message) };
  } catch (error) {
    return { partition, offset: message.offset, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Delivers the log's events from the beginning or from now on, following new ones
 * until `signal` aborts; with `follow: false`, stops at the end the log had when the
 * tail began. Order is the log's within a partition.
 */
export async function tailEvents(options: {
  kafka: Kafka;
  config: Config;
  fromBeginning: boolean;
  follow: boolean;
  filter: TailFilter;
  onEvent: (entry: LoggedEvent) => void;
  /** Called once the tail is positioned: every event appended after this is delivered. */
  onReady?: () => void;
  signal: AbortSignal;
}): Promise<void> {
  const { kafka, config, filter, onEvent, signal } = options;
  const topic = writeSideTopics(config).events;
  // Created as the platform would: a tail started first follows from the first event.
  await ensureWriteSideTopics(kafka, config);
  const ends = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  const starts = ends.map(({ partition, offset }) => ({ partition, from: options.fromBeginning ? 0n : BigInt(offset) }));
  const deliver = (partition: number, messages: readonly KafkaMessage[]) => {
    for (const message of messages) if (matches(message, filter)) onEvent(logged(partition, message));
  };

  if (!options.follow) {
    options.onReady?.();
    await readPartitionsToEnd({ kafka, topic, partitions: starts, groupPrefix: config.topics.prefix, onMessages: deliver });
    return;
  }
  if (signal.aborted) return;
  const consumer = kafka.consumer({ groupId: `${config.topics.prefix}.events-tail-${randomUUID()}`, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    // Seeks can cross batches fetched before them: what precedes a partition's start is not shown.
    const next = new Map(starts.map(({ partition, from }) => [partition, from]));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const from = next.get(batch.partition) ?? 0n;
        deliver(batch.partition, batch.messages.filter((message) => BigInt(message.offset) >= from));
        const after = BigInt(batch.lastOffset()) + 1n;
        if (after > from) next.set(batch.partition, after);
        return Promise.resolve();
      },
    });
    for (const { partition, from } of starts) consumer.seek({ topic, partition, offset: from.toString() });
    options.onReady?.();
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => { resolve(); }, { once: true });
    });
  } finally {
    await consumer.disconnect();
  }
}
