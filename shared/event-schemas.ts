/**
 * Events that evolve: each event type declares the schema of every version it ever
 * had, and how each version becomes the next (an upcaster, a pure function of the
 * data), or, for a retired type, which type it became. The command processor checks
 * what a decider returns against the current schema; every reader of the log (the
 * processor's rebuild, projectors, replays, dead-letter retries, sagas, the CLI) sees
 * events upcast to their current version. Events in Kafka are never rewritten: the
 * envelope's `schemaVersion` says which version of its type an event was written as.
 *
 * The contract between the write side, which writes events, and everything that
 * reads them: docs/evolving-events.md tells the rules.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import type { EventEnvelope } from './event-envelope.js';
import { UnreadableEventError } from './errors.js';

/** What the platform reads of an event type: its schema at each version, oldest first, and how each becomes the next. */
export interface EventTypeHistory {
  /** versions[0] is version 1's schema. */
  readonly versions: readonly TSchema[];
  /** upcasters[i] turns data of version i + 1 into data of version i + 2. */
  readonly upcasters: readonly ((data: never) => unknown)[];
  /** A retired type: its last version's data becomes version 1 of `type`. */
  readonly replacedBy?: { type: string; upcast: (data: never) => unknown };
}

/** An event type as an app declares it, `Data` being its current version's data. */
export interface EventType<Data = unknown> extends EventTypeHistory {
  /** A new version: `schema`, and how the latest version's data becomes it. */
  upcastTo<Next extends TSchema>(schema: Next, upcast: (data: Data) => Static<Next>): EventType<Static<Next>>;
  /** Retires the type: its events are read as version 1 of `type` (of the same aggregate), through `upcast`. */
  replacedWith(type: string, upcast: (data: Data) => unknown): EventType<Data>;
}

function eventTypeOf<Data>(versions: readonly TSchema[], upcasters: readonly ((data: never) => unknown)[], replacedBy?: EventTypeHistory['replacedBy']): EventType<Data> {
  return {
    versions,
    upcasters,
    ...(replacedBy === undefined ? {} : { replacedBy }),
    upcastTo: <Next extends TSchema>(schema: Next, upcast: (data: Data) => Static<Next>) =>
      eventTypeOf<Static<Next>>([...versions, schema], [...upcasters, upcast]),
    replacedWith: (type: string, upcast: (data: Data) => unknown) => eventTypeOf<Data>(versions, upcasters, { type, upcast }),
  };
}

/** The data of an event type's current version: `EventData<typeof productEvents.ProductRegistered>`. */
export type EventData<T> = T extends EventType<infer Data> ? Data : never;

/** An event type whose first version has `schema`; `.upcastTo(v2, fromV1)` adds versions. */
export const eventType = <Schema extends TSchema>(schema: Schema): EventType<Static<Schema>> => eventTypeOf<Static<Schema>>([schema], []);

/** Event type name → its history. */
export type EventTypes = Readonly<Record<string, EventTypeHistory>>;

/** `event` as an aggregate declaring `types` reads it today: for testing upcasters given/when/then. */
export const upcastEvent = (types: EventTypes, event: EventEnvelope): EventEnvelope => createEventCatalog({ [event.aggregateType]: types }).upcast(event);

/** What the log's readers and writers ask of an app's event types, per aggregate type. */
export interface EventCatalog {
  /** The current version of a declared type; undefined for a type the aggregate does not declare. */
  currentVersion(aggregateType: string, type: string): number | undefined;
  /** Why `data` is not a valid current `type` event, or undefined when it is. */
  violation(aggregateType: string, type: string, data: unknown): string | undefined;
  /** The type events stored as `type` are read as (a retired type's successor, followed to the end). */
  currentType(aggregateType: string, type: string): string;
  /** The event as it reads today: upcast to its type's current version (maybe a successor type). UnreadableEventError otherwise. */
  upcast(event: EventEnvelope): EventEnvelope;
  /**
   * What of an aggregate's event schemas a state folded from its events depends on: its
   * types past their first version, and the retired ones ('' when none). A state folded
   * under other schemas was folded from events shaped otherwise, by an `evolve` written for them.
   */
  stateSchemas(aggregateType: string): string;
}

const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, strict: false });

/**
 * The catalog of an app's event types (aggregate type → its event types). Types an
 * aggregate does not declare are written at version 1, unchecked, and read as they are.
 */
export function createEventCatalog(byAggregate: Readonly<Record<string, EventTypes>>): EventCatalog {
  const validators = new Map<EventTypeHistory, ValidateFunction>();
  const validatorOf = (definition: EventTypeHistory) => {
    let validate = validators.get(definition);
    if (validate === undefined) {
      validate = ajv.compile(definition.versions[definition.versions.length - 1] as TSchema);
      validators.set(definition, validate);
    }
    return validate;
  };
  const declared = (aggregateType: string, type: string): EventTypeHistory | undefined => {
    const types = Object.hasOwn(byAggregate, aggregateType) ? byAggregate[aggregateType] : undefined;
    return types !== undefined && Object.hasOwn(types, type) ? types[type] : undefined;
  };

  // Asked for every snapshot a rebuild reads: computed once per aggregate type.
  const stateSchemas = new Map(
    Object.entries(byAggregate).map(([aggregateType, types]) => [
      aggregateType,
      Object.entries(types)
        .filter(([, type]) => type.versions.length > 1 || type.replacedBy !== undefined)
        .map(([name, type]) => `${name}@${String(type.versions.length)}${type.replacedBy === undefined ? '' : `>${type.replacedBy.type}`}`)
        .sort()
        .join(','),
    ]),
  );

  const currentType = (aggregateType: string, type: string): string => {
    // Most types were never replaced: no walk for them (this runs for every record a projector reads).
    if (declared(aggregateType, type)?.replacedBy === undefined) return type;
    const seen = new Set<string>();
    let current = type;
    for (let next = declared(aggregateType, current)?.replacedBy; next !== undefined; next = declared(aggregateType, current)?.replacedBy) {
      if (seen.has(current)) throw new Error(`event type ${aggregateType} ${type} is replaced in a circle`);
      seen.add(current);
      current = next.type;
    }
    return current;
  };

  return {
    currentVersion: (aggregateType, type) => declared(aggregateType, type)?.versions.length,

    violation(aggregateType, type, data) {
      const definition = declared(aggregateType, type);
      if (definition === undefined) return `the event type ${type} is not declared in ${aggregateType}'s events`;
      if (definition.replacedBy !== undefined) return `the event type ${type} is retired (replaced with ${definition.replacedBy.type})`;
      const validate = validatorOf(definition);
      if (validate(data)) return undefined;
      const [first] = validate.errors ?? [];
      return `${type} v${String(definition.versions.length)}: data${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`;
    },

    currentType,

    stateSchemas: (aggregateType) => stateSchemas.get(aggregateType) ?? '',

    upcast(event) {
      let { type, schemaVersion: version, data } = event;
      for (let definition = declared(event.aggregateType, type); definition !== undefined; definition = declared(event.aggregateType, type)) {
        const latest = definition.versions.length;
        if (!Number.isSafeInteger(version) || version < 1 || version > latest) {
          throw new UnreadableEventError(`${event.type} v${String(event.schemaVersion)} (event ${event.eventId}): this app knows ${event.aggregateType} ${type} up to v${String(latest)}`);
        }
        for (; version < latest; version++) data = (definition.upcasters[version - 1] as (data: unknown) => unknown)(data);
        if (definition.replacedBy === undefined) break;
        data = (definition.replacedBy.upcast as (data: unknown) => unknown)(data);
        type = definition.replacedBy.type;
        version = 1;
      }
      return type === event.type && version === event.schemaVersion ? event : { ...event, type, schemaVersion: version, data };
    },
  };
}
