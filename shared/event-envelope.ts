/**
 * The event envelope: how a domain event travels on the events topic.
 *
 * The record value is the whole envelope as JSON; the routing fields are copied
 * into headers so that a consumer can filter without parsing the value. The key is
 * the aggregate's stream key (its id, prefixed by its tenant outside the default
 * one: auth/tenants.ts), so an aggregate's events share a partition and stay in order.
 * docs/write-path.md describes the format for consumers outside Strata.
 */
import type { LogRecord, OutgoingRecord, RecordHeaders } from './kafka/log-client.js';
import { MalformedRecordError } from './errors.js';
import { defaultTenant } from './auth/principal.js';
import { storedTenantPattern, streamKeyOf } from './auth/tenants.js';

/** An event type's first version: every type's that declares no schemas (shared/event-schemas.ts). */
export const firstSchemaVersion = 1;

export interface EventEnvelope<Data = unknown> {
  eventId: string;
  type: string;
  /** The tenant whose aggregate it is: with the type and id, the stream's identity (the default tenant on events from before tenants). */
  tenant: string;
  aggregateType: string;
  aggregateId: string;
  /** 1..n per aggregate, gapless, in log order. */
  version: number;
  /** The command that produced it. */
  commandId: string;
  /** What caused it: the command id. */
  causationId: string;
  /** The conversation it belongs to: the first command's id, carried along by sagas. */
  correlationId: string;
  /** ISO 8601, the processor's clock when it decided. */
  timestamp: string;
  /** The version of its type's schema the event was written as (shared/event-schemas.ts); readers see it upcast. */
  schemaVersion: number;
  /** Who sent the command that produced it: the log's audit trail (absent on events from before). */
  actor?: Actor;
  data: Data;
}

/** The principal of a command as its events remember it: who, for which tenant, through which client. */
export interface Actor {
  subject: string;
  tenant: string;
  clientId?: string;
}

export const eventHeaders = {
  type: 'strata-event-type',
  tenant: 'strata-tenant',
  aggregateType: 'strata-aggregate-type',
  aggregateId: 'strata-aggregate-id',
  version: 'strata-version',
  commandId: 'strata-command-id',
  traceparent: 'traceparent',
} as const;

export function encodeEvent(envelope: EventEnvelope, traceparent?: string): OutgoingRecord {
  const headers: Record<string, string> = {
    [eventHeaders.type]: envelope.type,
    [eventHeaders.tenant]: envelope.tenant,
    [eventHeaders.aggregateType]: envelope.aggregateType,
    [eventHeaders.aggregateId]: envelope.aggregateId,
    [eventHeaders.version]: String(envelope.version),
    [eventHeaders.commandId]: envelope.commandId,
  };
  if (traceparent !== undefined) headers[eventHeaders.traceparent] = traceparent;
  return { key: streamKeyOf(envelope.tenant, envelope.aggregateId), value: JSON.stringify(envelope), headers };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses and checks an events-topic record; throws MalformedRecordError for anything else. */
export function decodeEvent(message: Pick<LogRecord, 'value'>): EventEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch {
    throw new MalformedRecordError('the record value is not JSON');
  }
  if (!isRecord(parsed)) throw new MalformedRecordError('the record value is not an object');
  for (const field of ['eventId', 'type', 'aggregateType', 'aggregateId', 'commandId', 'causationId', 'correlationId', 'timestamp']) {
    if (typeof parsed[field] !== 'string') throw new MalformedRecordError(`the envelope has no string ${field}`);
  }
  if (!Number.isSafeInteger(parsed.version) || (parsed.version as number) < 1) {
    throw new MalformedRecordError('the envelope has no positive integer version');
  }
  if (typeof parsed.schemaVersion !== 'number') throw new MalformedRecordError('the envelope has no schemaVersion');
  if (parsed.tenant === undefined) parsed.tenant = defaultTenant;
  else if (typeof parsed.tenant !== 'string' || !storedTenantPattern.test(parsed.tenant)) throw new MalformedRecordError('the envelope has no valid tenant');
  return parsed as unknown as EventEnvelope;
}

/** A header's value as a string (the first, if the name repeats). */
export function headerValue(headers: RecordHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = typeof value === 'string' || Buffer.isBuffer(value) ? value : value?.[0];
  return first === undefined ? undefined : first.toString();
}
