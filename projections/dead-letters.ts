/**
 * The dead-letter topic: events a projection could not apply, with why and where
 * they came from. One topic for all projections, `<prefix>.dead-letters`, kept
 * forever: nothing is dropped without an operator deciding it.
 *
 * A dead letter's id names its projection version and source offset, so the same
 * failure written twice (a batch retried or redelivered) is recognisably one.
 */
import type { IHeaders, Kafka, KafkaMessage, Message } from 'kafkajs';
import type { Config } from '../shared/config.js';
import { eventHeaders, headerValue, type EventEnvelope } from '../shared/event-envelope.js';
import { MalformedRecordError } from '../shared/errors.js';
import { createMissingTopics, withAdmin } from '../shared/topic-admin.js';
import { projectionId, type Projection } from './projection.js';

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
  message: Pick<KafkaMessage, 'offset' | 'value' | 'headers'>;
  event: EventEnvelope | null;
  error: Error;
}

export function deadLetterOf(projection: Projection, failed: FailedRecord, now: Date): DeadLetter {
  const { topic, partition, message } = failed;
  const traceparent = headerValue(message.headers, eventHeaders.traceparent);
  return {
    id: `${projectionId(projection)}:${topic}:${String(partition)}:${message.offset}`,
    projection: projection.name,
    projectionVersion: projection.version,
    error: { name: failed.error.name, message: failed.error.message },
    source: { topic, partition, offset: message.offset },
    traceId: traceparent?.split('-')[1] ?? null,
    event: failed.event,
    rawValue: failed.event === null ? (message.value?.toString('utf8') ?? null) : null,
    failedAt: now.toISOString(),
  };
}

export function encodeDeadLetter(deadLetter: DeadLetter, traceparent?: string): Message {
  const headers: IHeaders = { 'strata-projection': `${deadLetter.projection}.v${String(deadLetter.projectionVersion)}` };
  if (traceparent !== undefined) headers[eventHeaders.traceparent] = traceparent;
  return { key: deadLetter.id, value: JSON.stringify(deadLetter), headers };
}

export function decodeDeadLetter(message: Pick<KafkaMessage, 'value'>): DeadLetter {
  try {
    const parsed = JSON.parse(message.value?.toString('utf8') ?? '') as Partial<DeadLetter>;
    if (typeof parsed.id !== 'string' || typeof parsed.projection !== 'string') throw new Error('not a dead letter');
    return parsed as DeadLetter;
  } catch {
    throw new MalformedRecordError('the record is not a dead letter');
  }
}

export async function ensureDeadLetterTopic(kafka: Kafka, config: Pick<Config, 'topics'>): Promise<void> {
  await withAdmin(kafka, (admin) =>
    createMissingTopics(admin, [
      {
        topic: deadLetterTopic(config),
        numPartitions: 1,
        configEntries: [
          { name: 'retention.ms', value: '-1' },
          { name: 'retention.bytes', value: '-1' },
        ],
      },
    ]),
  );
}
