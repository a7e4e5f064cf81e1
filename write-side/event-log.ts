/**
 * The event log read for people: one aggregate's history (`strata aggregate show`)
 * and the decoded tail of the whole log (`strata events tail`). Only committed
 * events: what the command processors aborted never shows.
 */
import { defaultTenant } from '../shared/auth/principal.js';
import { streamKeyOf } from '../shared/auth/tenants.js';
import type { Config } from '../shared/config.js';
import { decodeEvent, eventHeaders, headerValue, type EventEnvelope } from '../shared/event-envelope.js';
import type { LogClient, LogRecord } from '../shared/kafka/log-client.js';
import { fold } from './decider/decider.js';
import { aggregateOfType, type Domain } from './decider/domain.js';
import { ensureWriteSideTopics, partitionOfAggregate, writeSideTopics } from '../shared/topics.js';

/** Every committed event of `tenant`'s aggregate `aggregateId` (any aggregate type), in version order. */
export async function aggregateHistory(log: LogClient, config: Config, tenant: string, aggregateId: string): Promise<EventEnvelope[]> {
  const topic = writeSideTopics(config).events;
  // Before the platform's first start there is no topic: the log is empty, not missing.
  await ensureWriteSideTopics(log, config);
  const partitions = (await log.withAdmin((admin) => admin.partitionCounts([topic]))).get(topic) ?? config.topics.partitions;
  const events: EventEnvelope[] = [];
  const key = streamKeyOf(tenant, aggregateId);
  await log.readToEnd({
    topic,
    partitions: [{ partition: partitionOfAggregate(tenant, aggregateId, partitions), from: 0n }],
    onRecords: (_partition, records) => {
      for (const record of records) {
        // The key is the stream key: other aggregates' values are not even parsed.
        if (record.key?.toString('utf8') !== key) continue;
        try {
          events.push(decodeEvent(record));
        } catch {
          // Not an event: the projections' dead letters report such records.
        }
      }
    },
  });
  return events;
}

/**
 * The log's events as stored, from its start, to `take` until it answers true (enough)
 * or the log's end: `strata events schemas --write` collects sample events with it.
 */
export async function scanEvents(log: LogClient, config: Config, take: (event: EventEnvelope) => boolean): Promise<void> {
  const topic = writeSideTopics(config).events;
  await ensureWriteSideTopics(log, config);
  const ends = await log.withAdmin((admin) => admin.offsets(topic));
  const enough = new AbortController();
  try {
    await log.readToEnd({
      topic,
      partitions: ends.map(({ partition }) => ({ partition, from: 0n })),
      signal: enough.signal,
      onRecords: (_partition, records) => {
        for (const record of records) {
          let event: EventEnvelope;
          try {
            event = decodeEvent(record);
          } catch {
            continue;
          }
          if (take(event)) {
            enough.abort();
            return;
          }
        }
      },
    });
  } catch (error) {
    if (!enough.signal.aborted) throw error;
  }
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
 * omitted), each upcast to its current version as the command processor reads it.
 * Pure: the CLI reads the history, this decides what it shows.
 */
export function aggregateAt(domain: Domain, stored: readonly EventEnvelope[], version?: number): AggregateView {
  const history = stored.map((event) => domain.events.upcast(event));
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
  tenant?: string;
  aggregateId?: string;
  type?: string;
}

function matches(record: LogRecord, filter: TailFilter): boolean {
  const aggregateId = headerValue(record.headers, eventHeaders.aggregateId) ?? record.key?.toString('utf8');
  const type = headerValue(record.headers, eventHeaders.type);
  // Events from before tenants carry no tenant header: they are the default tenant's.
  const tenant = headerValue(record.headers, eventHeaders.tenant) ?? defaultTenant;
  return (filter.tenant === undefined || tenant === filter.tenant) && (filter.aggregateId === undefined || aggregateId === filter.aggregateId) && (filter.type === undefined || type === filter.type);
}

/** Delivers entries with their events upcast; an event the app cannot read is delivered with the reason. */
const upcastEntries = (upcast: (event: EventEnvelope) => EventEnvelope, onEvent: (entry: LoggedEvent) => void) => (entry: LoggedEvent) => {
  if (entry.event === undefined) {
    onEvent(entry);
    return;
  }
  try {
    onEvent({ ...entry, event: upcast(entry.event) });
  } catch (error) {
    onEvent({ partition: entry.partition, offset: entry.offset, error: error instanceof Error ? error.message : String(error) });
  }
};

function logged(partition: number, record: LogRecord): LoggedEvent {
  const offset = record.offset.toString();
  try {
    return { partition, offset, event: decodeEvent(record) };
  } catch (error) {
    return { partition, offset, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Delivers the log's events from the beginning or from now on, following new ones
 * until `signal` aborts; with `follow: false`, stops at the end the log had when the
 * tail began. Order is the log's within a partition.
 */
export async function tailEvents(options: {
  log: LogClient;
  config: Config;
  fromBeginning: boolean;
  follow: boolean;
  filter: TailFilter;
  /** How each event is shown: upcast to its current version (the app's catalog), or as stored when absent. */
  upcast?: (event: EventEnvelope) => EventEnvelope;
  onEvent: (entry: LoggedEvent) => void;
  /** Called once the tail is positioned: every event appended after this is delivered. */
  onReady?: () => void;
  signal: AbortSignal;
}): Promise<void> {
  const { log, config, filter, signal } = options;
  const onEvent = options.upcast === undefined ? options.onEvent : upcastEntries(options.upcast, options.onEvent);
  const topic = writeSideTopics(config).events;
  // Created as the platform would: a tail started first follows from the first event.
  await ensureWriteSideTopics(log, config);
  const ends = await log.withAdmin((admin) => admin.offsets(topic));
  const starts = ends.map(({ partition, end }) => ({ partition, from: options.fromBeginning ? 0n : end }));
  const deliver = (partition: number, records: readonly LogRecord[]) => {
    for (const record of records) if (matches(record, filter)) onEvent(logged(partition, record));
  };

  if (!options.follow) {
    options.onReady?.();
    await log.readToEnd({ topic, partitions: starts, onRecords: deliver });
    return;
  }
  if (signal.aborted) return;
  const follower = await log.follow({
    name: 'events-tail',
    topics: [{ topic, from: starts }],
    maxWaitMs: 200,
    onBatch: (batch) => { deliver(batch.partition, batch.records); },
  });
  try {
    options.onReady?.();
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => { resolve(); }, { once: true });
    });
  } finally {
    await follower.stop();
  }
}
