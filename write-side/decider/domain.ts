/**
 * A domain is a set of aggregates; an aggregate is a decider plus the JSON schema
 * of each command type it accepts and of each version of each event type it writes
 * (shared/event-schemas.ts). The write side knows nothing else about a domain: it
 * validates a command's data against the schema of its type, folds the aggregate's
 * events (upcast to their current versions) with `evolve`, asks `decide`, and checks
 * the events it returns against their current schemas.
 */
import type { TSchema } from '@sinclair/typebox';
import type { AccessRule } from '../../shared/auth/principal.js';
import { createEventCatalog, type EventCatalog, type EventType, type EventTypes } from '../../shared/event-schemas.js';
import type { Command, DecideContext, Decider, DomainEvent } from './decider.js';

/** What an access rule's `when` sees of a command: its aggregate and its data. */
export interface CommandInput<Data = unknown> {
  aggregateId: string;
  data: Data;
}

export interface Aggregate {
  /** The aggregate type, e.g. "Product"; it goes into every event's envelope. */
  type: string;
  /** Command type → JSON schema of its data. */
  commands: Readonly<Record<string, TSchema>>;
  /** Command type → who may send it. A command type not listed here may be sent by nobody. */
  access: Readonly<Partial<Record<string, AccessRule<CommandInput>>>>;
  /** Event type → the schema of each of its versions and the upcasters between them (empty: written unchecked, at version 1). */
  events: EventTypes;
  initialState: () => unknown;
  evolve: (state: unknown, event: DomainEvent) => unknown;
  decide: (command: Command, state: unknown, context: DecideContext) => DomainEvent[];
}

/**
 * Registers a typed decider. Its typed signature is erased here, in one place:
 * the write side only ever passes it commands validated against `commands` and
 * events it decided itself.
 */
export function defineAggregate<State, C extends Command, E extends DomainEvent>(definition: {
  type: string;
  decider: Decider<State, C, E>;
  commands: Readonly<Record<C['type'], TSchema>>;
  /** Who may send each command type (checked when STRATA_AUTH is on); one not listed: nobody. */
  access?: { readonly [K in C['type']]?: AccessRule<CommandInput<Extract<C, { type: K }>['data']>> };
  /**
   * Each event type the decider returns, with the schema of every version it had (the
   * current one matching the decider's type), and retired types the log still holds.
   */
  events?: { readonly [K in E['type']]: EventType<Extract<E, { type: K }>['data']> } & EventTypes;
}): Aggregate {
  const { decider } = definition;
  return {
    type: definition.type,
    commands: definition.commands,
    access: definition.access ?? {},
    events: definition.events ?? {},
    initialState: decider.initialState,
    evolve: (state, event) => decider.evolve(state as State, event as E),
    decide: (command, state, context) => decider.decide(command as C, state as State, context),
  };
}

export interface Domain {
  aggregates: readonly Aggregate[];
  /** The aggregate that handles a command type; undefined for an unknown type. */
  aggregateFor(commandType: string): Aggregate | undefined;
  commandTypes: readonly string[];
  /** The aggregates' event types: what decided events are checked against, and how stored ones are upcast. */
  events: EventCatalog;
}

export function defineDomain(aggregates: readonly Aggregate[]): Domain {
  const byCommand = new Map<string, Aggregate>();
  for (const aggregate of aggregates) {
    for (const commandType of Object.keys(aggregate.commands)) {
      const other = byCommand.get(commandType);
      if (other !== undefined) {
        throw new Error(`command type ${commandType} is claimed by both ${other.type} and ${aggregate.type}`);
      }
      byCommand.set(commandType, aggregate);
    }
  }
  return {
    aggregates,
    aggregateFor: (commandType) => byCommand.get(commandType),
    commandTypes: [...byCommand.keys()],
    events: createEventCatalog(Object.fromEntries(aggregates.map((aggregate) => [aggregate.type, aggregate.events]))),
  };
}

/** The aggregate of a stored stream; an unknown type means the log holds another domain's events. */
export function aggregateOfType(domain: Domain, aggregateType: string): Aggregate {
  const aggregate = domain.aggregates.find((candidate) => candidate.type === aggregateType);
  if (aggregate === undefined) throw new Error(`unknown aggregate type ${aggregateType}`);
  return aggregate;
}
