/**
 * The dead-letter topic: events a projection could not apply, with why and where
 * they came from. One topic for all projections, `<prefix>.dead-letters`, kept
 * forever: nothing is dropped without an operator deciding it.
 *
 * A dead letter's id names its projection version and source offset, so the same
 * failure written twice (a batch retried or redelivered) is recognisably one.
 *
 * The topic is also the letters' history: `strata dlq retry` and `drop` append a
 * resolution under the letter's id, and a retry that fails again appends the letter
 * anew with its new error. A letter is open while its latest record is the letter
 * itself. An aggregate with an open letter is held: its later events wait in the
 * dead letters too (see batch-plan.ts), so the topic is what projectors read to know
 * which aggregates are held.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { Config } from '../shared/config.js';
import type { LogClient, LogRecord, OutgoingRecord } from '../shared/kafka/log-client.js';
import { envelopeOf, eventHeaders, headerValue, storedEnvelopeSchema, type EventEnvelope } from '../shared/event-envelope.js';
import { MalformedRecordError } from '../shared/errors.js';
import { recordDecoder } from '../shared/record-decoder.js';
import { createReplicatedTopics } from '../shared/topics.js';
import { projectionId } from '../shared/projection-id.js';
import type { Projection } from './projection.js';
import { documentIdOf } from './batch-plan.js';

export const deadLetterTopic = (config: Pick<Config, 'topics'>) => `${config.topics.prefix}.dead-letters`;

export interface DeadLetter {
  id: string;
  projection: string;
  projectionVersion: number;
  error: { name: string; message: string };
  source: { topic: string; partition: number; offset: string };
  /** The trace of the command that produced the event, if it had one. */
  traceId: string | null;
  /** The decoded envelope; null when the record was not a valid event at all. */
  event: EventEnvelope | null;
  /** The record's value as it was, for records that could not be decoded. */
  rawValue: string | null;
  failedAt: string;
}

export interface FailedRecord {
  topic: string;
  partition: number;
  record: Pick<LogRecord, 'offset' | 'value' | 'headers'>;
  event: EventEnvelope | null;
  error: Error;
}

export function deadLetterOf(projection: Projection, failed: FailedRecord, now: Date): DeadLetter {
  const { topic, partition, record } = failed;
  const traceparent = headerValue(record.headers, eventHeaders.traceparent);
  const offset = record.offset.toString();
  return {
    id: `${projectionId(projection)}:${topic}:${String(partition)}:${offset}`,
    projection: projection.name,
    projectionVersion: projection.version,
    error: { name: failed.error.name, message: failed.error.message },
    source: { topic, partition, offset },
    traceId: traceparent?.split('-')[1] ?? null,
    event: failed.event,
    rawValue: failed.event === null ? (record.value?.toString('utf8') ?? null) : null,
    failedAt: now.toISOString(),
  };
}

export function encodeDeadLetter(deadLetter: DeadLetter, traceparent?: string): OutgoingRecord {
  const headers: Record<string, string> = { 'strata-projection': `${deadLetter.projection}.v${String(deadLetter.projectionVersion)}` };
  if (traceparent !== undefined) headers[eventHeaders.traceparent] = traceparent;
  return { key: deadLetter.id, value: JSON.stringify(deadLetter), headers };
}

export type Resolution = 'retried' | 'dropped';

export interface DeadLetterResolution {
  id: string;
  resolution: Resolution;
  resolvedAt: string;
}

export function encodeResolution(resolution: DeadLetterResolution): OutgoingRecord {
  return { key: resolution.id, value: JSON.stringify(resolution) };
}

const nullable = <Schema extends TSchema>(schema: Schema) => Type.Union([schema, Type.Null()]);

const resolutionSchema = Type.Object({ id: Type.String(), resolution: Type.Union([Type.Literal('retried'), Type.Literal('dropped')]), resolvedAt: Type.String() });

const letterSchema = Type.Object({
  id: Type.String(),
  projection: Type.String(),
  projectionVersion: Type.Number(),
  error: Type.Object({ name: Type.String(), message: Type.String() }),
  source: Type.Object({ topic: Type.String(), partition: Type.Number(), offset: Type.String() }),
  traceId: nullable(Type.String()),
  event: nullable(storedEnvelopeSchema),
  rawValue: nullable(Type.String()),
  failedAt: Type.String(),
});

const deadLetterRecord = recordDecoder('a dead letter', Type.Union([resolutionSchema, letterSchema]));
const resolutionRecord = recordDecoder('a resolution', resolutionSchema);

/** A dead-letter topic record: a letter, or an operator's resolution of one. */
export function decodeDeadLetterRecord(message: Pick<LogRecord, 'value'>): DeadLetter | DeadLetterResolution {
  const record = deadLetterRecord(message.value);
  if (resolutionRecord.is(record)) return record;
  // Letters from before tenants carry events of the default tenant's.
  return { ...record, event: record.event === null ? null : envelopeOf(record.event) };
}

export function decodeDeadLetter(message: Pick<LogRecord, 'value'>): DeadLetter {
  const record = decodeDeadLetterRecord(message);
  if ('resolution' in record) throw new MalformedRecordError('the record is a resolution, not a dead letter');
  return record;
}

export interface DeadLetterEntry {
  /** The latest letter written under the id. */
  letter: DeadLetter;
  /** Set when the latest record of the id resolves it. */
  resolution: DeadLetterResolution | undefined;
  /** How many times the event was dead-lettered (a retry that failed again adds one). */
  failures: number;
}

export interface DeadLetterBook {
  add(record: DeadLetter | DeadLetterResolution): void;
  get(id: string): DeadLetterEntry | undefined;
  entries(): DeadLetterEntry[];
  /** The documents (batch-plan.ts's ids) of a projection version (`order-details.v1`) with an open letter: held. */
  held(projectionVersion: string): ReadonlySet<string>;
}

/**
 * The dead letters as the topic's records tell them, in topic order: pure, so the
 * projectors' view and the CLI read the history the same way.
 */
export function createDeadLetterBook(): DeadLetterBook {
  const entries = new Map<string, DeadLetterEntry>();
  // Open letters per projection version and aggregate, counted.
  const open = new Map<string, Map<string, number>>();

  const count = (letter: DeadLetter, by: number) => {
    if (letter.event === null) return;
    const key = `${letter.projection}.v${String(letter.projectionVersion)}`;
    const aggregates = open.get(key) ?? new Map<string, number>();
    const document = documentIdOf(letter.event);
    const total = (aggregates.get(document) ?? 0) + by;
    if (total > 0) aggregates.set(document, total);
    else aggregates.delete(document);
    open.set(key, aggregates);
  };

  return {
    add(record) {
      const entry = entries.get(record.id);
      if (entry?.resolution === undefined && entry !== undefined) count(entry.letter, -1);
      if ('resolution' in record) {
        if (entry !== undefined) entry.resolution = record;
        return;
      }
      entries.set(record.id, { letter: record, resolution: undefined, failures: (entry?.failures ?? 0) + 1 });
      count(record, 1);
    },
    get: (id) => entries.get(id),
    entries: () => [...entries.values()],
    held: (projectionVersion) => new Set(open.get(projectionVersion)?.keys()),
  };
}

export async function ensureDeadLetterTopic(log: LogClient, config: Pick<Config, 'topics'>): Promise<void> {
  await log.withAdmin((admin) =>
    createReplicatedTopics(admin, config, [{ topic: deadLetterTopic(config), partitions: 1, config: { 'retention.ms': '-1', 'retention.bytes': '-1' } }]),
  );
}
