/**
 * What the owner of a partition knows, and the pure part of its work: folding
 * snapshots and events into it (rebuild), and deciding a batch of commands
 * against it. No I/O here: partition-owner.ts does the Kafka side.
 *
 * An aggregate's stream is keyed by tenant, type and id ("Order:o-1" in the default
 * tenant, "acme/Order:o-1" in acme's), so a product and an order may share an id, and
 * two tenants may both have an order o-1. Each stream keeps its version, its state and the
 * outcomes of its most recent commands (the idempotency window).
 */
import { randomUUID } from 'node:crypto';
import type { ConsistencyTokens } from '../../shared/consistency-token.js';
import {
  EventSchemaError,
  NotFoundError,
  StrataError,
  VersionConflictError,
  toProblemDetails,
  type ProblemDetails,
} from '../../shared/errors.js';
import { firstSchemaVersion, type Actor, type EventEnvelope } from '../../shared/event-envelope.js';
import { defaultTenant, type Principal } from '../../shared/auth/principal.js';
import { streamKeyOf } from '../../shared/auth/tenants.js';
import { requestOf, type CommandOutcome, type CommandRecord } from '../command-record.js';
import { aggregateOfType, type Aggregate, type Domain } from '../decider/domain.js';
import type { DomainEvent } from '../decider/decider.js';

export interface StreamState {
  tenant: string;
  aggregateType: string;
  aggregateId: string;
  version: number;
  state: unknown;
  /** Outcomes of the latest commands, oldest first, at most the idempotency window. */
  recent: CommandOutcome[];
}

export interface PartitionState {
  partition: number;
  streams: Map<string, StreamState>;
  /** Events written since the last checkpoint. */
  eventsSinceCheckpoint: number;
  /** Streams changed since the last checkpoint: the ones the next checkpoint snapshots. */
  dirty: Set<string>;
}

/** A snapshots-topic record: one stream's state, or a partition checkpoint. */
export type SnapshotRecord =
  | ({
      kind: 'stream';
      /** The aggregate's event schemas the state was folded under (EventCatalog.stateSchemas); absent: none past version 1. */
      eventSchemas?: string;
    } & StreamState)
  | {
      kind: 'checkpoint';
      /** Every stream with events before this events offset has a snapshot at least that recent. */
      eventsOffset: string;
    };

export const checkpointKey = '__checkpoint__';
/** A stream's key in the partition's map and on the snapshots topic. */
export const streamKey = (stream: Pick<StreamState, 'tenant' | 'aggregateType' | 'aggregateId'>) =>
  streamKeyOf(stream.tenant, `${stream.aggregateType}:${stream.aggregateId}`);

export function emptyPartition(partition: number): PartitionState {
  return { partition, streams: new Map(), eventsSinceCheckpoint: 0, dirty: new Set() };
}

/** The stream with an outcome remembered, the oldest ones beyond `window` forgotten. */
export function remember(stream: StreamState, outcome: CommandOutcome, window: number): StreamState {
  const recent = [...stream.recent, outcome];
  return { ...stream, recent: recent.length > window ? recent.slice(recent.length - window) : recent };
}

function initialStream(domain: Domain, { tenant, aggregateType, aggregateId }: Pick<StreamState, 'tenant' | 'aggregateType' | 'aggregateId'>): StreamState {
  const { initialState } = aggregateOfType(domain, aggregateType);
  return { tenant, aggregateType, aggregateId, version: 0, state: initialState(), recent: [] };
}

/** A stream's snapshot record, stamped with the event schemas its state was folded under. */
export const streamSnapshot = (domain: Domain, stream: StreamState): SnapshotRecord => ({
  kind: 'stream',
  ...stream,
  eventSchemas: domain.events.stateSchemas(stream.aggregateType),
});

/**
 * Takes a stream's snapshot into the partition, unless it was taken under other event
 * schemas than the aggregate's today: then the stream is forgotten and false returned,
 * and the rebuild must fold the partition's events from the start (docs/evolving-events.md).
 */
export function applySnapshot(partition: PartitionState, domain: Domain, record: SnapshotRecord): boolean {
  if (record.kind !== 'stream') return true;
  const { kind: _kind, eventSchemas = '', ...stream } = record;
  if (eventSchemas !== domain.events.stateSchemas(stream.aggregateType)) {
    partition.streams.delete(streamKey(stream));
    return false;
  }
  partition.streams.set(streamKey(stream), stream);
  return true;
}

/**
 * Folds one committed event into the partition (the rebuild's events tail), upcast
 * to its type's current version first. Events a snapshot already covers are skipped;
 * a gap means the log or a snapshot is corrupt, and the owner must not serve on top of it.
 */
export function applyEvent(
  partition: PartitionState,
  domain: Domain,
  stored: EventEnvelope,
  offset: string,
  window: number,
  tokens: Pick<ConsistencyTokens, 'encode'>,
): void {
  const event = domain.events.upcast(stored);
  const key = streamKey(event);
  const stream = partition.streams.get(key) ?? initialStream(domain, event);
  if (event.version <= stream.version) return;
  if (event.version !== stream.version + 1) {
    throw new Error(`${key} jumps from version ${stream.version} to ${event.version} at offset ${offset}`);
  }
  const state = aggregateOfType(domain, event.aggregateType).evolve(stream.state, { type: event.type, data: event.data });
  // A command's events are consecutive: its outcome grows with each of them.
  const last = stream.recent[stream.recent.length - 1];
  const continues = last?.status === 'accepted' && last.commandId === event.commandId;
  const outcome: CommandOutcome = {
    status: 'accepted',
    commandId: event.commandId,
    tenant: event.tenant,
    aggregateId: event.aggregateId,
    version: event.version,
    events: continues ? [...last.events, event.type] : [event.type],
    consistencyToken: tokens.encode(event.tenant, { [partition.partition]: offset }),
  };
  const recent = continues ? stream.recent.slice(0, -1) : stream.recent;
  partition.streams.set(key, remember({ ...stream, version: event.version, state, recent }, outcome, window));
  partition.dirty.add(key);
}

/** What a batch decided, before it is written. */
export interface Decision {
  /** The events to append, in order. */
  events: EventEnvelope[];
  /**
   * Per command, in order: an outcome, the indexes of its events in `events`, or
   * (the same command id twice in one batch) the index of the first one's result.
   */
  results: ({ outcome: CommandOutcome } | { accepted: CommandRecord; eventIndexes: number[] } | { sameAs: number })[];
  /** The streams as they will be once the batch commits. */
  streams: Map<string, StreamState>;
}

/** The principal of a command record written before the gateway recorded one. */
const unknownPrincipal: Principal = { subject: 'unknown', tenant: defaultTenant, roles: [], scopes: [] };

const actorOf = ({ subject, tenant, clientId }: Principal): Actor => ({ subject, tenant, ...(clientId === undefined ? {} : { clientId }) });

function rejected(command: CommandRecord, problem: ProblemDetails): { outcome: CommandOutcome } {
  return { outcome: { status: 'rejected', commandId: command.commandId, tenant: command.tenant, aggregateId: command.aggregateId, request: requestOf(command), problem } };
}

/** What deciding a batch builds up, command by command. */
interface BatchInProgress {
  partition: PartitionState;
  domain: Domain;
  now: Date;
  onDeciderBug: (command: CommandRecord, error: unknown) => void;
  streams: Map<string, StreamState>;
  events: EventEnvelope[];
  results: Decision['results'];
  /** `<stream key>/<command id>` of the commands accepted in this batch: the index of their result. */
  acceptedHere: Map<string, number>;
}

/**
 * Decides a batch in order, each command seeing the effect of the ones before it.
 * Nothing in `partition` changes: the new stream states come back in the decision
 * and are applied only after the transaction commits.
 */
export function decideBatch(
  partition: PartitionState,
  domain: Domain,
  commands: readonly CommandRecord[],
  now: Date,
  onDeciderBug: (command: CommandRecord, error: unknown) => void,
): Decision {
  const batch: BatchInProgress = { partition, domain, now, onDeciderBug, streams: new Map(), events: [], results: [], acceptedHere: new Map() };
  for (const command of commands) batch.results.push(decideCommand(batch, command));
  return { events: batch.events, results: batch.results, streams: batch.streams };
}

/** One command's result; its new stream state and events go into the batch. */
function decideCommand(batch: BatchInProgress, command: CommandRecord): Decision['results'][number] {
  const aggregate = batch.domain.aggregateFor(command.commandType);
  if (aggregate === undefined || aggregate.type !== command.aggregateType) {
    return rejected(command, toProblemDetails(new NotFoundError(`unknown command type ${command.commandType}`)));
  }
  const address = { tenant: command.tenant, aggregateType: aggregate.type, aggregateId: command.aggregateId };
  const key = streamKey(address);
  const stream = batch.streams.get(key) ?? batch.partition.streams.get(key) ?? initialStream(batch.domain, address);

  const earlier = stream.recent.find((outcome) => outcome.commandId === command.commandId);
  if (earlier !== undefined) return { outcome: earlier };
  const sameAs = batch.acceptedHere.get(`${key}/${command.commandId}`);
  if (sameAs !== undefined) return { sameAs };
  let decided: DomainEvent[];
  try {
    if (command.expectedVersion !== undefined && command.expectedVersion !== stream.version) {
      throw new VersionConflictError(command.aggregateId, command.expectedVersion, stream.version);
    }
    decided = runDecider(batch.domain, aggregate, command, stream.state, batch.now);
  } catch (error) {
    if (!(error instanceof StrataError) || error instanceof EventSchemaError) batch.onDeciderBug(command, error);
    const refusal = rejected(command, toProblemDetails(error));
    batch.streams.set(key, remember(stream, refusal.outcome, Number.MAX_SAFE_INTEGER));
    return refusal;
  }
  let { state, version } = stream;
  const eventIndexes: number[] = [];
  for (const event of decided) {
    version += 1;
    state = aggregate.evolve(state, event);
    eventIndexes.push(batch.events.length);
    batch.events.push(envelopeOf(batch, aggregate.type, command, event, version));
  }
  batch.streams.set(key, { ...stream, state, version });
  batch.acceptedHere.set(`${key}/${command.commandId}`, batch.results.length);
  return { accepted: command, eventIndexes };
}

/** The decider's events; an aggregate that declares its events gets each one checked against the current schema. */
function runDecider(domain: Domain, aggregate: Aggregate, command: CommandRecord, state: unknown, now: Date): DomainEvent[] {
  const decided = aggregate.decide({ type: command.commandType, data: command.data }, state, {
    aggregateId: command.aggregateId,
    commandId: command.commandId,
    now,
    principal: command.principal ?? unknownPrincipal,
  });
  if (Object.keys(aggregate.events).length > 0) {
    for (const event of decided) {
      const violation = domain.events.violation(aggregate.type, event.type, event.data);
      if (violation !== undefined) throw new EventSchemaError(`${command.commandType} returned an invalid event: ${violation}`);
    }
  }
  return decided;
}

function envelopeOf(batch: BatchInProgress, aggregateType: string, command: CommandRecord, event: DomainEvent, version: number): EventEnvelope {
  return {
    eventId: randomUUID(),
    type: event.type,
    tenant: command.tenant,
    aggregateType,
    aggregateId: command.aggregateId,
    version,
    commandId: command.commandId,
    causationId: command.commandId,
    correlationId: command.correlationId,
    timestamp: batch.now.toISOString(),
    schemaVersion: batch.domain.events.currentVersion(aggregateType, event.type) ?? firstSchemaVersion,
    ...(command.principal === undefined ? {} : { actor: actorOf(command.principal) }),
    data: event.data,
  };
}
