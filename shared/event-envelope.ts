/**
 * The event envelope: how a domain event travels on the events topic.
 *
 * The record value is the whole envelope as JSON; the routing fields are copied
 * into headers so that a consumer can filter without parsing the value. The key is
 * the aggregate's stream key (its id, prefixed by its tenant outside the default
 * one: auth/tenants.ts), so an aggregate's events share a partition and stay in order.
 * docs/write-path.md describes the format for consumers outside Strata.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { LogRecord, OutgoingRecord, RecordHeaders } from './kafka/log-client.js';
import { defaultTenant } from './auth/principal.js';
import { storedTenantSchema, streamKeyOf } from './auth/tenants.js';
import { recordDecoder } from './record-decoder.js';

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

/** The principal's part an event keeps. */
const actorSchema = Type.Object({ subject: Type.String(), tenant: Type.String(), clientId: Type.Optional(Type.String()) });

/**
 * An events-topic record as any version of Strata wrote it: events from before tenants
 * name none, those from before actors have none, and one whose data was undefined has no `data`.
 */
export const storedEnvelopeSchema = Type.Object({
  eventId: Type.String(),
  type: Type.String(),
  tenant: Type.Optional(storedTenantSchema),
  aggregateType: Type.String(),
  aggregateId: Type.String(),
  version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  commandId: Type.String(),
  causationId: Type.String(),
  correlationId: Type.String(),
  timestamp: Type.String(),
  schemaVersion: Type.Number(),
  actor: Type.Optional(actorSchema),
  data: Type.Optional(Type.Unknown()),
});

export type StoredEnvelope = Static<typeof storedEnvelopeSchema>;

const storedEnvelope = recordDecoder('an event envelope', storedEnvelopeSchema);

/** Parses and checks an events-topic record; throws MalformedRecordError for anything else. */
export function decodeEvent(message: Pick<LogRecord, 'value'>): EventEnvelope {
  return envelopeOf(storedEnvelope(message.value));
}

/**
 * A checked envelope as readers take it: an event from before tenants is the default
 * tenant's. Completed in place, not copied: this runs for every event read.
 */
export function envelopeOf(stored: StoredEnvelope): EventEnvelope {
  stored.tenant ??= defaultTenant;
  // All the type adds to the checked record is `data` always being there (an absent one reads as undefined).
  return stored as EventEnvelope;
}

/** A header's value as a string (the first, if the name repeats). */
export function headerValue(headers: RecordHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = typeof value === 'string' || Buffer.isBuffer(value) ? value : value?.[0];
  return first === undefined ? undefined : first.toString();
}
